graph [
  comment "A made-up three-node map with coordinates only (no edge lengths), for qnet's importer tests"
  node [ id 0 label "Equator0" Latitude 0.0 Longitude 0.0 ]
  node [ id 1 label "Equator1" Latitude 0.0 Longitude 1.0 ]
  node [ id 2 label "North" Latitude 1.0 Longitude 1.0 ]
  edge [ source 0 target 1 ]
  edge [ source 1 target 2 ]
]
