"""Network layer: hardware records, field paths, the raw table (parse, layout, --set), the graph and the file reader.

Imports only :mod:`qnet.quantum` and :mod:`qnet.errors`.
"""

from qnet._lazy import attach

SUBMODULES = ("hardware", "fields", "tables", "graph", "io", "generate", "writer", "importers", "choices")
EXPORTS = {
    "load_network": "io",
    "read_network_table": "io",
    "read_toml_file": "io",
    "network_from_dict": "graph",
    "network_data": "graph",
    "NetworkData": "graph",
    "DEFAULT_FIBRE_SPEED_KM_PER_S": "graph",
    "parse_toml": "tables",
    "apply_overrides": "tables",
    "parse_override": "tables",
    "check_layout": "tables",
    "MAX_NESTING": "tables",
    "FieldPath": "fields",
    "NODE_KINDS": "hardware",
    "MemoryNode": "hardware",
    "Station": "hardware",
    "Fibre": "hardware",
    "SCHEMES": "hardware",
    "DECAY_LAWS": "hardware",  # defined in qnet.quantum.channels
    "MAX_TIME_S": "hardware",
    "NAME_RULE": "hardware",
    "is_valid_name": "hardware",
    "default_fibre_name": "hardware",
    "shown_key": "hardware",
    "validate_value": "hardware",
    "TOPOLOGIES": "generate",
    "Hardware": "generate",
    "read_hardware": "generate",
    "network_table": "generate",
    "to_toml": "writer",
    "write_network": "writer",
    "read_topology": "importers",
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)
