graph [
  DateObtained "22/10/10"
  GeoLocation "Netherlands"
  GeoExtent "Country"
  Network "SURFNET"
  Provenance "Primary"
  Access 0
  Source "http://www.surfnet.nl/en/netwerk/national/Pages/map.aspx"
  Version "1.0"
  DateType "Current"
  Type "REN"
  Backbone 1
  Commercial 0
  label "Surfnet"
  ToolsetVersion "0.3.34dev-20120328"
  Customer 1
  IX 0
  SourceGitVersion "e278b1b"
  DateModifier "="
  DateMonth "10"
  LastAccess "22/10/10"
  Layer "IP"
  Creator "Topology Zoo Toolset"
  Developed 1
  Transit 0
  NetworkDate "2010_10"
  DateYear "2010"
  LastProcessed "2011_09_01"
  Testbed 1
  node [
    id 0
    label "Westerbork"
    Country "Netherlands"
    Longitude 6.60833
    Internal 1
    Latitude 52.85
    type "Node"
  ]
  node [
    id 1
    label "Dwingeloo"
    Country "Netherlands"
    Longitude 6.36944
    Internal 1
    Latitude 52.83417
    type "Node"
  ]
  node [
    id 2
    label "Groningen"
    Country "Netherlands"
    Longitude 6.56667
    Internal 1
    Latitude 53.21917
    type "Node"
  ]
  node [
    id 3
    label "Assen"
    Country "Netherlands"
    Longitude 6.5625
    Internal 1
    Latitude 52.99667
    type "Node"
  ]
  node [
    id 4
    label "Alkmaar"
    Country "Netherlands"
    Longitude 4.74861
    Internal 1
    Latitude 52.63167
    type "Node"
  ]
  node [
    id 5
    label "Lelystad"
    Country "Netherlands"
    Longitude 5.475
    Internal 1
    Latitude 52.50833
    type "Node"
  ]
  node [
    id 6
    label "Leeuwarden"
    Country "Netherlands"
    Longitude 5.80859
    Internal 1
    Latitude 53.20139
    type "Node with blue background text"
  ]
  node [
    id 7
    label "Den_Helder"
    Country "Netherlands"
    Longitude 4.75933
    Internal 1
    Latitude 52.95988
    type "Node"
  ]
  node [
    id 8
    label "Amsterdam"
    Country "Netherlands"
    Longitude 4.88969
    Internal 1
    Latitude 52.37403
    type "Node with blue background text"
  ]
  node [
    id 9
    label "Haarlem"
    Country "Netherlands"
    Longitude 4.63683
    Internal 1
    Latitude 52.38084
    type "Node"
  ]
  node [
    id 10
    label "Oss"
    Country "Netherlands"
    Longitude 5.51806
    Internal 1
    Latitude 51.765
    type "Node"
  ]
  node [
    id 11
    label "Den_Bosch"
    Country "Netherlands"
    Longitude 5.30417
    Internal 1
    Latitude 51.69917
    type "Node"
  ]
  node [
    id 12
    label "Houten"
    Country "Netherlands"
    Longitude 5.16806
    Internal 1
    Latitude 52.02833
    type "Node"
  ]
  node [
    id 13
    label "Wageningen"
    Country "Netherlands"
    Longitude 5.66667
    Internal 1
    Latitude 51.97
    type "Node"
  ]
  node [
    id 14
    label "Nijmegen"
    Country "Netherlands"
    Longitude 5.85278
    Internal 1
    Latitude 51.8425
    type "Node with blue background text"
  ]
  node [
    id 15
    label "Venlo"
    Country "Netherlands"
    Longitude 6.16806
    Internal 1
    Latitude 51.37
    type "Node"
  ]
  node [
    id 16
    label "Heerlen"
    Country "Netherlands"
    Longitude 5.98154
    Internal 1
    Latitude 50.88365
    type "Node"
  ]
  node [
    id 17
    label "Maastricht"
    Country "Netherlands"
    Longitude 5.68889
    Internal 1
    Latitude 50.84833
    type "Node"
  ]
  node [
    id 18
    label "Maasbracht"
    Country "Netherlands"
    Longitude 5.88627
    Internal 1
    Latitude 51.13929
    type "Node"
  ]
  node [
    id 19
    label "Eindhoven"
    Country "Netherlands"
    Longitude 5.47778
    Internal 1
    Latitude 51.44083
    type "Node"
  ]
  node [
    id 20
    label "Yerseke"
    Country "Netherlands"
    Longitude 4.05
    Internal 1
    Latitude 51.4925
    type "Node"
  ]
  node [
    id 21
    label "Vlissingen"
    Country "Netherlands"
    Longitude 3.57361
    Internal 1
    Latitude 51.4425
    type "Node"
  ]
  node [
    id 22
    label "Gouda"
    Country "Netherlands"
    Longitude 4.70833
    Internal 1
    Latitude 52.01667
    type "Node"
  ]
  node [
    id 23
    label "Nieuwegen"
    Country "Netherlands"
    Longitude 5.08056
    Internal 1
    Latitude 52.02917
    type "Node"
  ]
  node [
    id 24
    label "Tilburg"
    Country "Netherlands"
    Longitude 5.0913
    Internal 1
    Latitude 51.55551
    type "Node"
  ]
  node [
    id 25
    label "Dordrecht"
    Country "Netherlands"
    Longitude 4.67361
    Internal 1
    Latitude 51.81
    type "Node"
  ]
  node [
    id 26
    label "Bergen_op_Zoom"
    Country "Netherlands"
    Longitude 4.29167
    Internal 1
    Latitude 51.495
    type "Node"
  ]
  node [
    id 27
    label "Breda"
    Country "Netherlands"
    Longitude 4.77596
    Internal 1
    Latitude 51.58656
    type "Node"
  ]
  node [
    id 28
    label "Middelburg"
    Country "Netherlands"
    Longitude 3.61389
    Internal 1
    Latitude 51.5
    type "Node"
  ]
  node [
    id 29
    label "Zierikzee"
    Country "Netherlands"
    Longitude 3.91944
    Internal 1
    Latitude 51.65
    type "Node"
  ]
  node [
    id 30
    label "Utrecht"
    Country "Netherlands"
    Longitude 5.12222
    Internal 1
    Latitude 52.09083
    type "Node"
  ]
  node [
    id 31
    label "Breukelen"
    Country "Netherlands"
    Longitude 5.00139
    Internal 1
    Latitude 52.17417
    type "Node"
  ]
  node [
    id 32
    label "Leiden"
    Country "Netherlands"
    Longitude 4.49306
    Internal 1
    Latitude 52.15833
    type "Node"
  ]
  node [
    id 33
    label "Oegstgeest"
    Country "Netherlands"
    Longitude 4.46944
    Internal 1
    Latitude 52.18
    type "Node"
  ]
  node [
    id 34
    label "Lisse"
    Country "Netherlands"
    Longitude 4.55694
    Internal 1
    Latitude 52.26
    type "Node"
  ]
  node [
    id 35
    label "Schiphol"
    Country "Netherlands"
    Longitude 4.75
    Internal 1
    Latitude 52.3
    type "Node"
  ]
  node [
    id 36
    label "Hilversum"
    Country "Netherlands"
    Longitude 5.17639
    Internal 1
    Latitude 52.22333
    type "Node"
  ]
  node [
    id 37
    label "Rotterdam"
    Country "Netherlands"
    Longitude 4.47917
    Internal 1
    Latitude 51.9225
    type "Node with blue background text"
  ]
  node [
    id 38
    label "Delft"
    Country "Netherlands"
    Longitude 4.35556
    Internal 1
    Latitude 52.00667
    type "Node"
  ]
  node [
    id 39
    label "DenHaag"
    Country "Netherlands"
    Longitude 4.29861
    Internal 1
    Latitude 52.07667
    type "Node with blue background text"
  ]
  node [
    id 40
    label "Emmen"
    Country "Netherlands"
    Longitude 6.90694
    Internal 1
    Latitude 52.77917
    type "Node"
  ]
  node [
    id 41
    label "Winschoten"
    Country "Netherlands"
    Longitude 7.03472
    Internal 1
    Latitude 53.14417
    type "Node"
  ]
  node [
    id 42
    label "Arnhem"
    Country "Netherlands"
    Longitude 5.91111
    Internal 1
    Latitude 51.98
    type "Node with blue background text"
  ]
  node [
    id 43
    label "Apeldoorn"
    Country "Netherlands"
    Longitude 5.96944
    Internal 1
    Latitude 52.21
    type "Node"
  ]
  node [
    id 44
    label "Zutphen"
    Country "Netherlands"
    Longitude 6.20139
    Internal 1
    Latitude 52.13833
    type "Node"
  ]
  node [
    id 45
    label "Enschede"
    Country "Netherlands"
    Longitude 6.89583
    Internal 1
    Latitude 52.21833
    type "Node"
  ]
  node [
    id 46
    label "Deventer"
    Country "Netherlands"
    Longitude 6.16389
    Internal 1
    Latitude 52.255
    type "Node"
  ]
  node [
    id 47
    label "Zwolle"
    Country "Netherlands"
    Longitude 6.09444
    Internal 1
    Latitude 52.5125
    type "Node"
  ]
  node [
    id 48
    label "Meppel"
    Country "Netherlands"
    Longitude 6.19444
    Internal 1
    Latitude 52.69583
    type "Node"
  ]
  node [
    id 49
    label "Hoogeveen"
    Country "Netherlands"
    Longitude 6.47639
    Internal 1
    Latitude 52.7225
    type "Node"
  ]
  edge [
    source 0
    target 1
    id "e20"
  ]
  edge [
    source 1
    target 8
    id "e21"
  ]
  edge [
    source 1
    target 3
    id "e19"
  ]
  edge [
    source 2
    target 41
    id "e15"
  ]
  edge [
    source 2
    target 3
    id "e16"
  ]
  edge [
    source 2
    target 6
    id "e18"
  ]
  edge [
    source 3
    target 49
    id "e13"
  ]
  edge [
    source 4
    target 8
    id "e24"
  ]
  edge [
    source 4
    target 9
    id "e25"
  ]
  edge [
    source 4
    target 7
    id "e23"
  ]
  edge [
    source 5
    target 8
    id "e26"
  ]
  edge [
    source 5
    target 47
    id "e8"
  ]
  edge [
    source 6
    target 7
    id "e22"
  ]
  edge [
    source 8
    target 32
    id "e28"
  ]
  edge [
    source 8
    target 35
    id "e27"
  ]
  edge [
    source 8
    target 38
    id "e29"
  ]
  edge [
    source 8
    target 47
    id "e9"
  ]
  edge [
    source 8
    target 36
    id "e30"
  ]
  edge [
    source 8
    target 30
    id "e32"
  ]
  edge [
    source 8
    target 31
    id "e31"
  ]
  edge [
    source 9
    target 32
    id "e33"
  ]
  edge [
    source 10
    target 11
    id "e62"
  ]
  edge [
    source 11
    target 19
    id "e61"
  ]
  edge [
    source 11
    target 23
    id "e63"
  ]
  edge [
    source 12
    target 30
    id "e50"
  ]
  edge [
    source 13
    target 30
    id "e52"
  ]
  edge [
    source 13
    target 14
    id "e53"
  ]
  edge [
    source 14
    target 42
    id "e0"
  ]
  edge [
    source 14
    target 45
    id "e5"
  ]
  edge [
    source 14
    target 15
    id "e54"
  ]
  edge [
    source 15
    target 16
    id "e55"
  ]
  edge [
    source 16
    target 17
    id "e56"
  ]
  edge [
    source 17
    target 18
    id "e58"
  ]
  edge [
    source 18
    target 19
    id "e59"
  ]
  edge [
    source 19
    target 24
    id "e60"
  ]
  edge [
    source 19
    target 30
    id "e47"
  ]
  edge [
    source 20
    target 26
    id "e68"
  ]
  edge [
    source 20
    target 21
    id "e72"
  ]
  edge [
    source 21
    target 28
    id "e71"
  ]
  edge [
    source 22
    target 37
    id "e44"
  ]
  edge [
    source 22
    target 30
    id "e49"
  ]
  edge [
    source 23
    target 30
    id "e48"
  ]
  edge [
    source 24
    target 27
    id "e65"
  ]
  edge [
    source 25
    target 27
    id "e64"
  ]
  edge [
    source 25
    target 37
    id "e43"
  ]
  edge [
    source 26
    target 27
    id "e66"
  ]
  edge [
    source 26
    target 29
    id "e69"
  ]
  edge [
    source 28
    target 29
    id "e70"
  ]
  edge [
    source 30
    target 36
    id "e45"
  ]
  edge [
    source 30
    target 38
    id "e40"
  ]
  edge [
    source 30
    target 31
    id "e46"
  ]
  edge [
    source 32
    target 39
    id "e37"
  ]
  edge [
    source 32
    target 38
    id "e38"
  ]
  edge [
    source 32
    target 33
    id "e36"
  ]
  edge [
    source 33
    target 34
    id "e35"
  ]
  edge [
    source 34
    target 35
    id "e34"
  ]
  edge [
    source 37
    target 38
    id "e41"
  ]
  edge [
    source 38
    target 39
    id "e39"
  ]
  edge [
    source 40
    target 41
    id "e14"
  ]
  edge [
    source 40
    target 49
    id "e12"
  ]
  edge [
    source 42
    target 44
    id "e1"
  ]
  edge [
    source 42
    target 46
    id "e2"
  ]
  edge [
    source 43
    target 44
    id "e3"
  ]
  edge [
    source 43
    target 46
    id "e4"
  ]
  edge [
    source 45
    target 47
    id "e6"
  ]
  edge [
    source 46
    target 47
    id "e7"
  ]
  edge [
    source 47
    target 48
    id "e10"
  ]
  edge [
    source 48
    target 49
    id "e11"
  ]
]
