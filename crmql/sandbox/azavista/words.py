"""Vocabulary for the Azavista data generator (places, names, templates)."""

from __future__ import annotations

#: (city, ISO country, IANA timezone, local language, weight)
CITIES: list[tuple[str, str, str, str, float]] = [
    ("Amsterdam", "NL", "Europe/Amsterdam", "nl", 8),
    ("Rotterdam", "NL", "Europe/Amsterdam", "nl", 4),
    ("Utrecht", "NL", "Europe/Amsterdam", "nl", 3),
    ("Den Haag", "NL", "Europe/Amsterdam", "nl", 2),
    ("Eindhoven", "NL", "Europe/Amsterdam", "nl", 2),
    ("Brussels", "BE", "Europe/Brussels", "fr", 3),
    ("Antwerpen", "BE", "Europe/Brussels", "nl", 2),
    ("London", "GB", "Europe/London", "en", 7),
    ("Manchester", "GB", "Europe/London", "en", 2),
    ("Edinburgh", "GB", "Europe/London", "en", 1),
    ("Dublin", "IE", "Europe/Dublin", "en", 2),
    ("Berlin", "DE", "Europe/Berlin", "de", 5),
    ("München", "DE", "Europe/Berlin", "de", 3),
    ("Köln", "DE", "Europe/Berlin", "de", 2),
    ("Hamburg", "DE", "Europe/Berlin", "de", 2),
    ("Düsseldorf", "DE", "Europe/Berlin", "de", 1),
    ("Zürich", "CH", "Europe/Zurich", "de", 2),
    ("Genève", "CH", "Europe/Zurich", "fr", 1),
    ("Wien", "AT", "Europe/Vienna", "de", 1),
    ("Paris", "FR", "Europe/Paris", "fr", 5),
    ("Lyon", "FR", "Europe/Paris", "fr", 2),
    ("Barcelona", "ES", "Europe/Madrid", "en", 2),
    ("Lisboa", "PT", "Europe/Lisbon", "en", 1),
    ("København", "DK", "Europe/Copenhagen", "en", 1),
    ("Malmö", "SE", "Europe/Stockholm", "en", 1),
    ("Kraków", "PL", "Europe/Warsaw", "en", 1),
    ("New York", "US", "America/New_York", "en", 5),
    ("Boston", "US", "America/New_York", "en", 2),
    ("Chicago", "US", "America/Chicago", "en", 2),
    ("Austin", "US", "America/Chicago", "en", 1),
    ("San Francisco", "US", "America/Los_Angeles", "en", 2),
    ("Toronto", "CA", "America/Toronto", "en", 1),
    ("São Paulo", "BR", "America/Sao_Paulo", "en", 1),
    ("Singapore", "SG", "Asia/Singapore", "en", 1),
    ("Sydney", "AU", "Australia/Sydney", "en", 1),
]

CURRENCY_BY_COUNTRY = {"GB": "GBP", "US": "USD", "CA": "USD", "BR": "USD", "SG": "USD", "AU": "USD"}
TLD_BY_COUNTRY = {"NL": "nl", "BE": "be", "GB": "co.uk", "IE": "ie", "DE": "de", "CH": "ch",
                  "AT": "at", "FR": "fr", "ES": "es", "PT": "pt", "DK": "dk", "SE": "se",
                  "PL": "pl", "CA": "ca", "BR": "com.br", "SG": "sg", "AU": "com.au"}
LEGAL_FORM = {"NL": "B.V.", "BE": "NV", "GB": "Ltd", "IE": "Ltd", "DE": "GmbH", "CH": "AG",
              "AT": "GmbH", "FR": "SAS", "ES": "S.L.", "PT": "Lda.", "DK": "ApS", "SE": "AB",
              "PL": "Sp. z o.o.", "US": "Inc.", "CA": "Inc.", "BR": "Ltda.", "SG": "Pte. Ltd.",
              "AU": "Pty Ltd"}
PHONE_PREFIX = {"NL": "+31 6", "BE": "+32 4", "GB": "+44 20", "IE": "+353 1", "DE": "+49 151",
                "CH": "+41 79", "AT": "+43 664", "FR": "+33 6", "ES": "+34 6", "PT": "+351 91",
                "DK": "+45 2", "SE": "+46 70", "PL": "+48 5", "US": "+1 212", "CA": "+1 416",
                "BR": "+55 11", "SG": "+65 9", "AU": "+61 4"}

EVENT_TYPES = {"marketing": 5, "sales": 3, "internal": 2, "webinar": 4, "conference": 2,
               "training": 3, "partner": 2}

TOPICS = ["Reporting 101", "Advanced Analytics", "Registration Best Practices", "Event ROI",
          "Hybrid Events", "GDPR for Event Planners", "Badge Printing", "Onsite Check-in",
          "Email Campaigns", "Budget Planning", "Data Migration", "API Integrations",
          "Attendee Engagement", "Sponsor Management", "Mobile App Setup",
          "Travel & Hotel Booking", "Survey Design", "Lead Retrieval", "Seating Plans",
          "Café-style Networking"]

NAME_TEMPLATES: dict[str, list[str]] = {
    "marketing": ["Customer Day {city}", "Product Launch {year}", "Brand Experience {city}",
                  "Roadshow {city} {year}", "Spring Campaign Kickoff",
                  "Customer Appreciation Evening", "Kundentag {city}", "Journée Clients {city}",
                  "Klantendag {city}", "Product Launch: {topic}"],
    "sales": ["Sales Kickoff {year}", "Key Account Meeting {city}",
              "Pipeline Review Meeting Q{q}", "Executive Dinner {city}",
              "Regional Sales Meeting {city}", "Deal Desk Session Q{q}",
              "Customer Success Lunch {city}"],
    "internal": ["Leadership Offsite", "All-Hands Meeting Q{q} {year}", "Team Offsite {city}",
                 "Board Meeting Q{q}", "Summer Party {year}", "Quarterly Business Review Q{q}",
                 "Strategy Day {year}", "Holiday Dinner {year}", "Personeelsdag {year}"],
    "webinar": ["Product Webinar: {topic}", "Webinar: {topic}", "Ask Me Anything: {topic}",
                "Live Demo: {topic}", "Webinar – {topic}", "Expert Talk: {topic}"],
    "conference": ["Azavista Connect {year}", "Event Tech Summit {city}",
                   "Annual User Conference {year}", "Future of Events Congress {year}",
                   "MICE Forum {city}", "Hospitality Innovation Days {year}",
                   "Q{q} Partner Summit {city}"],
    "training": ["{topic} Training", "Onboarding Bootcamp {city}",
                 "Certification Course: {topic}", "Admin Training Level {n}",
                 "Masterclass {topic}", "Schulung: {topic}", "Formation : {topic}"],
    "partner": ["Q{q} Partner Summit {city}", "Partner Day {city}", "Reseller Meeting {year}",
                "Partner Enablement Session", "Alliance Forum {city}", "Partnertag {city}"],
}

#: Names containing "Workshop" (capitalized).
WORKSHOP_TEMPLATES = ["{topic} Workshop", "Sales Kickoff Workshop", "Hands-on Workshop: {topic}",
                      "Workshop {city}: {topic}", "Design Thinking Workshop",
                      "Partner Enablement Workshop", "Marketing Workshop Q{q}",
                      "Leadership Workshop {year}", "Customer Journey Workshop {city}"]
#: Names containing lowercase "workshop".
WORKSHOP_LOWER_TEMPLATES = ["Pre-conference workshop: {topic}", "team workshop {city}",
                            "internal workshop – {topic}", "Half-day workshop on {topic}",
                            "Mini-workshop {topic}"]

VENUE_TEMPLATES = ["{city} Congress Centre", "Grand Hotel {city}", "The Loft {city}",
                   "Novotel {city} Centre", "Hilton {city}", "{city} Expo",
                   "Impact Hub {city}", "Mövenpick Hotel {city}", "{city} Marriott",
                   "The Greenhouse {city}", "Hôtel de Ville {city}", "{city} Business Park",
                   "Radisson Blu {city}", "Kulturzentrum {city}", "WeWork {city} Central"]

ORGANIZERS = ["events@azavista-demo.example", "Marketing.Team@azavista-demo.example",
              "lotte.dekker@azavista-demo.example", "jurgen.schafer@azavista-demo.example",
              "Camille.Roux@azavista-demo.example", "sales-ops@azavista-demo.example",
              "emma.walker@azavista-demo.example", "partners@azavista-demo.example",
              "training@azavista-demo.example", "Noor.Visser@azavista-demo.example"]

ORG_ROOTS = ["Nordlicht", "Blauwe Haven", "Vandermeer", "Brightwater", "Alpen", "Lindqvist",
             "Kestrel", "Oakridge", "Meridian", "Polaris", "Zeeland", "Rheinland", "Delta",
             "Harbour", "Cobalt", "Tulip", "Beacon", "Everest", "Falcon", "Granite", "Horizon",
             "Juniper", "Lumen", "Maple", "Nova", "Orion", "Pioneer", "Quartz", "Redwood",
             "Silverline", "Summit", "Terra", "Vertex", "Willow", "Zenith", "Ærø", "Müller",
             "Schröder", "Sørensen", "Dubois", "Lefèvre", "García", "Nowak", "Janssen",
             "De Vries", "Bakker", "Visser", "O'Neill", "Brennan", "Fjord", "Kronberg",
             "Étoile", "Løvenskiold", "Van Oranje", "NXT", "ACME", "KVH", "bright&co",
             "de Groene", "e-Volve", "Keizersgracht", "Crown", "Atlas", "Mercator", "Hanse"]
ORG_SECTORS: dict[str, str] = {
    "Logistics": "Logistics", "Consulting": "Consulting", "Pharma": "Pharmaceuticals",
    "Hotels": "Hospitality", "Events": "Events", "Software": "Software", "Bank": "Banking",
    "Verzekeringen": "Insurance", "Insurance": "Insurance", "Foods": "Food & Beverage",
    "Energie": "Energy", "Energy": "Energy", "Media": "Media", "Travel": "Travel",
    "Architects": "Architecture", "Legal": "Legal Services", "Engineering": "Engineering",
    "Capital": "Financial Services", "Automotive": "Automotive", "Health": "Healthcare",
    "Technik": "Engineering", "Conseil": "Consulting", "Retail": "Retail",
    "Telecom": "Telecommunications", "Biotech": "Biotechnology", "Education": "Education",
}

FIRST_NAMES: dict[str, list[str]] = {
    "nl": ["Jan", "Sanne", "Pieter", "Femke", "Daan", "Lotte", "Bram", "Anouk", "Joris", "Eva",
           "Sem", "Noor", "Thijs", "Iris", "Ruud", "Marieke", "Kees", "Ilse"],
    "de": ["Lukas", "Anna", "Jürgen", "Sophie", "Maximilian", "Lena", "Jörg", "Katrin", "Felix",
           "Hannah", "Matthias", "Björn", "Uwe", "Sabine", "Günther", "Ute"],
    "fr": ["Camille", "Léa", "François", "Hélène", "Julien", "Chloé", "Amélie", "Jérôme", "Théo",
           "Océane", "Benoît", "Marie", "Zoé", "Gaëlle"],
    "en": ["James", "Emma", "Oliver", "Olivia", "Harry", "Amelia", "Michael", "Sarah", "David",
           "Emily", "Liam", "Charlotte", "Seán", "Zoë", "Siobhán", "Søren", "Åsa", "Łukasz",
           "Małgorzata", "José", "João", "Núria", "Sigríður", "Priya", "Wei", "Aiko"],
}
LAST_NAMES: dict[str, list[str]] = {
    "nl": ["de Vries", "van den Berg", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
           "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Dekker",
           "van der Linden", "Kuijpers", "IJzerman"],
    "de": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schäfer", "Koch", "Hoffmann", "Schröder", "Köhler", "Groß", "Weiß", "von Arnim"],
    "fr": ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Leroy", "Moreau", "Lefèvre", "Girard", "Roux", "Bonnet", "Fontaine", "Gérard"],
    "en": ["Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "O'Brien",
           "Murphy", "Johnson", "Walker", "Wright", "Robinson", "Thompson", "McCarthy",
           "Sørensen", "Lindqvist", "Nowak", "Kowalski", "García", "Fernández", "Gonçalves",
           "Øvergaard", "Åberg", "Jónsdóttir", "Patel", "Chen", "Tanaka"],
}

JOB_TITLES = ["Event Manager", "Marketing Director", "Sales Representative", "Account Executive",
              "CEO", "Office Manager", "HR Business Partner", "Travel Coordinator",
              "Head of Partnerships", "Procurement Officer", "CFO", "Software Engineer",
              "Project Manager", "Communications Advisor", "Medewerker Evenementen",
              "Geschäftsführer", "Chargée de communication", "Responsable marketing",
              "event coordinator", "VP Sales EMEA"]

FREE_MAIL = ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "web.de", "ziggo.nl",
             "orange.fr", "icloud.com", "gmx.de", "proton.me"]
