"""Vocabulary for the casavi data generator: German cities, streets, names, companies, trades.

>>> all(len(plz) == 5 for _, plz, _, _ in CITIES)
True
"""

from __future__ import annotations

#: (city, first postal code of its range (5 digits, leading zeros kept), telephone area code, weight)
CITIES: list[tuple[str, str, str, float]] = [
    ("München", "80331", "89", 10), ("Berlin", "10115", "30", 10), ("Hamburg", "20095", "40", 8),
    ("Köln", "50667", "221", 6), ("Frankfurt am Main", "60311", "69", 6), ("Stuttgart", "70173", "711", 5),
    ("Düsseldorf", "40210", "211", 5), ("Leipzig", "04103", "341", 4), ("Dresden", "01067", "351", 4),
    ("Nürnberg", "90402", "911", 4), ("Hannover", "30159", "511", 3), ("Bremen", "28195", "421", 2),
    ("Augsburg", "86150", "821", 2), ("Regensburg", "93047", "941", 2), ("Freiburg im Breisgau", "79098", "761", 2),
    ("Münster", "48143", "251", 2), ("Würzburg", "97070", "931", 1), ("Görlitz", "02826", "3581", 1),
    ("Potsdam", "14467", "331", 1), ("Lübeck", "23552", "451", 1),
]

STREETS: list[str] = [
    "Hauptstraße", "Schillerstraße", "Goethestraße", "Lindenallee", "Bahnhofstraße", "Gartenweg",
    "Am Mühlbach", "Königsallee", "Kastanienweg", "Friedrichstraße", "Bergstraße", "Rosenstraße",
    "Luisenstraße", "Am Schloßpark", "Mozartstraße", "Beethovenstraße", "Kirchplatz", "Weißdornweg",
    "Uhlandstraße", "Marktplatz", "Birkenweg", "Isarstraße", "Elbchaussee", "Rheinuferstraße",
    "Ahornstraße", "Sonnenstraße", "Am Stadtgraben", "Fürstenrieder Straße", "Große Bleiche",
    "Prinzregentenstraße", "Kurfürstendamm", "Neckarstraße", "Mainzer Landstraße", "Grünstraße",
    "Eichendorffstraße", "Jägerstraße", "Hölderlinweg", "Lessingstraße", "Wilhelm-Busch-Straße", "Talstraße",
]

MALE: list[str] = [
    "Thomas", "Michael", "Andreas", "Stefan", "Jürgen", "Klaus", "Peter", "Wolfgang", "Jörg", "Uwe",
    "Markus", "Frank", "Matthias", "Sebastian", "Tobias", "Lukas", "Jonas", "Maximilian", "Florian",
    "Günter", "Björn", "Sören", "Hans-Peter", "Karl-Heinz", "Felix", "Niklas", "Paul", "Ömer", "Mehmet",
]
FEMALE: list[str] = [
    "Sabine", "Petra", "Claudia", "Andrea", "Monika", "Ursula", "Katrin", "Julia", "Anna", "Lena",
    "Sarah", "Laura", "Jessica", "Stefanie", "Birgit", "Gabriele", "Renate", "Jana", "Hannah", "Lea",
    "Sophie", "Marie-Luise", "Anja", "Bärbel", "Käthe", "Jülide", "Zoë", "Chiara", "Elif",
]
LAST_NAMES: list[str] = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner",
    "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König",
    "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß",
    "Jung", "Hahn", "Vogel", "Friedrich", "Günther", "Keller", "Groß", "Roth", "Beck", "Lorenz",
    "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus",
    "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß-Bölting", "Yılmaz",
    "Kaya", "Nowak", "Kowalski", "Popović", "Rossi", "Ngô", "O'Brien", "von der Heydt", "Dąbrowski",
]

#: company landlords and owners: (name root, legal form)
OWNER_COMPANIES: list[tuple[str, str]] = [
    ("Isar Wohnbau", "GmbH"), ("Nordlicht Immobilien", "GmbH & Co. KG"), ("Rheinblick Grundbesitz", "AG"),
    ("Sächsische Wohnungsgesellschaft", "mbH"), ("Elbufer Residenz", "GmbH"), ("Main-Taunus Immobilien", "KG"),
    ("Schwäbische Bauträger", "GmbH"), ("Grünhof Verwaltungs", "GmbH"), ("Familie Oßwald", "GbR"),
    ("Hanseatische Wohnwerte", "GmbH"), ("Lößnitz Immobilienfonds", "GmbH & Co. KG"), ("Alpenvorland Wohnen", "eG"),
]

#: external service providers: (trade as the responsibility's roleName, company name root)
TRADES: list[tuple[str, list[str]]] = [
    ("Hausmeister", ["Hausmeisterservice Krause", "Objektservice Süd", "Haus & Hof Dienste", "Meister Pröpper"]),
    ("Reinigung", ["Glanzwerk Gebäudereinigung", "Sauber & Söhne", "Blitzblank Reinigungsdienst"]),
    ("Aufzugswartung", ["Aufzugsdienst Höhenflug", "LiftTec Süd", "Schindler-Partner Köster"]),
    ("Heizungswartung", ["Wärmetechnik Özdemir", "Heizung & Sanitär Bäumer", "Thermoservice Lübke"]),
    ("Gartenpflege", ["Grünpflege Wiesengrund", "Gartenbau Fröhlich", "Blattwerk Landschaftsbau"]),
    ("Schornsteinfeger", ["Bezirksschornsteinfeger Rußmann", "Kaminkehrerei Schwarz"]),
    ("Winterdienst", ["Winterdienst Eisfrei", "Streuwerk Nord"]),
]
PROVIDER_FORMS: list[str] = ["GmbH", "GmbH & Co. KG", "e.K.", "UG (haftungsbeschränkt)", "OHG"]

#: the property manager's own staff roles (internal responsibilities)
INTERNAL_ROLES: list[str] = ["Objektbetreuung", "Buchhaltung", "Technische Verwaltung", "Mietverwaltung"]
MANAGER_COMPANY = "Hausverwaltung Sonnenschein GmbH"

COMPANY_ROLES: list[str] = ["Geschäftsführer", "Geschäftsführerin", "Prokurist", "Ansprechpartnerin",
                            "Vermietung", "Inhaber", "Vorstand"]

PROPERTY_NAMES: list[str] = [
    "WEG {street} {no}", "Wohnanlage {street}", "Mehrfamilienhaus {street} {no}", "Wohn- und Geschäftshaus {street}",
    "{quarter} Höfe", "Residenz am {park}", "Stadtquartier {quarter}", "Haus {last}",
]
QUARTERS: list[str] = ["Schwabing", "Prenzlauer Berg", "Ehrenfeld", "Sachsenhausen", "Bad Cannstatt", "Gohlis",
                       "Neustadt", "Gostenhof", "Linden", "Altona", "Südstadt", "Lindenau", "Wiehre"]
PARKS: list[str] = ["Stadtpark", "Schlossgarten", "Mühlbach", "Rosengarten", "Elbufer", "Isarhang"]

HEATING: list[str] = ["Fernwärme", "Gaszentralheizung", "Wärmepumpe", "Ölheizung", "Pelletheizung", "Etagenheizung"]
#: metering service companies (mscProviderName, mscProviderIdentifier prefix)
MSC_PROVIDERS: list[tuple[str, str]] = [("Techem", "TE"), ("ista", "IS"), ("Brunata-Metrona", "BM"),
                                        ("Minol", "MI"), ("KALO", "KA")]

CONTACT_NOTES: list[str] = [
    "Bitte nur schriftlich kontaktieren.", "Telefonisch nur werktags 9–17 Uhr erreichbar.",
    "Schlüssel für Keller beim Hausmeister hinterlegt.", "Spricht Englisch, kein Deutsch.",
    "Beiratsmitglied der WEG.", "Lastschriftmandat liegt vor.", "Post bitte an die Büroadresse.",
    "Hat Hund (Erlaubnis vom 12.03.2021).", "Zahlt Hausgeld quartalsweise.",
]
PROPERTY_NOTES: list[str] = [
    "Tiefgarage mit 24 Stellplätzen, Zufahrt über Hofeinfahrt.", "Dachsanierung 2023 abgeschlossen.",
    "Fassade steht unter Denkmalschutz.", "Eigentümerversammlung jährlich im Mai.",
    "Aufzug im Vorderhaus, kein Aufzug im Hinterhaus.", "Photovoltaik auf dem Dach (Mieterstrom).",
]
