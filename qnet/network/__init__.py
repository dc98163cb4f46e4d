"""Network layer: hardware records, the network file reader (TOML -> networkx.Graph) and field paths.

Imports only :mod:`qnet.quantum` and :mod:`qnet.errors`.
"""

from qnet._lazy import attach

SUBMODULES = ('hardware', 'io')
EXPORTS = {
    'load_network': 'io',
    'read_network_table': 'io',
    'network_from_dict': 'io',
    'apply_overrides': 'io',
    'parse_override': 'io',
    'check_layout': 'io',
    'DEFAULT_FIBRE_SPEED_KM_PER_S': 'io',
    'MAX_NESTING': 'io',
    'MemoryNode': 'hardware',
    'Station': 'hardware',
    'Fibre': 'hardware',
    'SCHEMES': 'hardware',
    'DECAY_LAWS': 'hardware',
    'MAX_TIME_S': 'hardware',
    'NAME_RULE': 'hardware',
    'is_valid_name': 'hardware',
    'default_fibre_name': 'hardware',
    'shown_key': 'hardware',
    'validate_value': 'hardware',
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)
