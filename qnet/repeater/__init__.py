"""Repeater layer: swaps, purification, chains (Monte Carlo and exact), routing, paths and comparisons.

Imports the quantum, network and link layers.
"""

from qnet._lazy import attach

SUBMODULES = ('chain', 'choices', 'compare', 'engine', 'fusion', 'keyroute', 'link_purification', 'path', 'purification', 'routing', 'swapping', 'switch', 'traffic')
EXPORTS = {
    'ChainResult': 'path',
    'build_chain': 'path',
    'build_chains': 'path',
    'simulate_path': 'path',
    'format_chain': 'path',
    'path_hops': 'path',
    'CHAIN_FIELDS': 'path',
    'MemoryDecay': 'chain',
    'LinkPurification': 'chain',
    'ChainLink': 'chain',
    'RepeaterNode': 'chain',
    'RepeaterChain': 'chain',
    'ChainMonteCarloResult': 'chain',
    'ChainExactResult': 'chain',
    'simulate_chain': 'chain',
    'exact_chain': 'chain',
    'run_chain': 'chain',
    'SWAP_POLICIES': 'chain',
    'ComparisonRow': 'compare',
    'Comparison': 'compare',
    'compare_path': 'compare',
    'scaled_graph': 'compare',
    'PurifiedLinkResult': 'link_purification',
    'purify_link': 'link_purification',
    'purification_table': 'link_purification',
    'format_purified': 'link_purification',
    'PURIFIED_FIELDS': 'link_purification',
    'PROTOCOLS': 'purification',
    'KEPT_OUTCOMES': 'purification',
    'purify_circuit': 'purification',
    'purify': 'purification',
    'twirl_to_werner': 'purification',
    'METRICS': 'routing',
    'Hop': 'routing',
    'link_graph': 'routing',
    'explicit_path': 'routing',
    'all_link_results': 'routing',
    'best_path': 'routing',
    'KeyRoute': 'keyroute',
    'KeyRouteModel': 'keyroute',
    'best_key_route': 'keyroute',
    'swap_circuit': 'swapping',
    'swap': 'swapping',
    'GHZ_TARGET': 'fusion',
    'fusion_hub_circuit': 'fusion',
    'fusion_circuit': 'fusion',
    'fuse': 'fusion',
    'ghz_fidelity': 'fusion',
    'SWITCH_PARTIES': 'switch',
    'switch_capacity': 'switch',
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)
