"""Studies layer: parameter sweeps, optimisation, finite-size keys, plots and progress reporting.

Imports every layer below it, never :mod:`qnet.cli`.
"""

from qnet._lazy import attach

SUBMODULES = ('choices', 'optimize', 'plot', 'progress', 'ranges', 'sweep', 'draw', 'key')
EXPORTS = {
    'KeyResult': 'key',
    'key_of_state': 'key',
    'traffic_keys': 'key',
    'OptimizeResult': 'optimize',
    'optimize_link': 'optimize',
    'parse_vary_range': 'optimize',
    'format_optimum': 'optimize',
    'STATION_POSITION': 'optimize',
    'LINK_PARAMETERS': 'optimize',
    'plot_results': 'plot',
    'draw_network': 'draw',
    'memory_graph': 'draw',
    'read_utilisation': 'draw',
    'read_results': 'plot',
    'PlotInfo': 'plot',
    'is_rate_column': 'plot',
    'OUTPUT_SUFFIXES': 'plot',
    'Progress': 'progress',
    'clock': 'progress',
    'plural': 'progress',
    'singular': 'progress',
    'per_second': 'progress',
    'Axis': 'sweep',
    'parse_vary': 'sweep',
    'parse_values': 'sweep',
    'grid': 'sweep',
    'Grid': 'sweep',
    'Range': 'ranges',
    'RangeError': 'ranges',
    'parse_range': 'ranges',
    'parse_bounds': 'ranges',
    'parse_list': 'ranges',
    'MAX_POINTS': 'sweep',
    'check_field': 'sweep',
    'Evaluator': 'sweep',
    'LinkEvaluator': 'sweep',
    'LINK_EXTRA_COLUMNS': 'sweep',
    'ChainEvaluator': 'sweep',
    'ERROR_COLUMN': 'sweep',
    'run_sweep': 'sweep',
    'check_sweep_output': 'sweep',
    'sidecar_paths': 'sweep',
    'sweep_id': 'sweep',
    'SWEEP_ID_COLUMN': 'sweep',
    'check_dask_address': 'sweep',
    'dask_security': 'sweep',
    'WorkerDied': 'sweep',
    'SweepSummary': 'sweep',
    'read_table': 'sweep',
    'output_format': 'sweep',
    'clear_cache': 'sweep',
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)
