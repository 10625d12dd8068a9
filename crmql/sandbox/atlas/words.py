"""Vocabulary for the Atlas CRM data generator (names, places, products, texts)."""

from __future__ import annotations

#: Owners: (Atlassian account id, display name).  One uses the older "557058:<uuid>" form.
OWNERS: list[tuple[str, str]] = [
    ("5b10a2844c20165700ede21g", "Sanne de Wit"),
    ("5b10ac8d82e05b22cc7d4ef5", "Jürgen Bauer"),
    ("5c3f8e1a9d2b7f0e4a6c1d33", "Emily Carter"),
    ("5d9b2f7e6a1c4e0012f8a9b7", "Camille Laurent"),
    ("60a7c3e1b4d2f900687e5c21", "Lars Øvergaard"),
    ("6123f0a9e8b7c6d5a4b3c2d1", "Priya Raman"),
    ("62e4d1c0b9a8f7e6d5c4b3a2", "Tomás Herrera"),
    ("557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "Admin (legacy)"),
]

#: (country name as typed by users, website TLD, phone prefix, legal form, weight)
COUNTRIES: list[tuple[str, str, str, str, float]] = [
    ("Netherlands", "nl", "+31 6", "B.V.", 9),
    ("Germany", "de", "+49 151", "GmbH", 9),
    ("Deutschland", "de", "+49 160", "GmbH", 2),
    ("United Kingdom", "co.uk", "+44 20", "Ltd", 7),
    ("United States", "com", "+1 415", "Inc.", 8),
    ("France", "fr", "+33 6", "SAS", 5),
    ("Belgium", "be", "+32 4", "NV", 3),
    ("Österreich", "at", "+43 664", "GmbH", 2),
    ("Switzerland", "ch", "+41 79", "AG", 2),
    ("España", "es", "+34 6", "S.L.", 2),
    ("Sweden", "se", "+46 70", "AB", 2),
    ("Danmark", "dk", "+45 2", "ApS", 1),
    ("Polska", "pl", "+48 5", "Sp. z o.o.", 1),
    ("Türkiye", "com.tr", "+90 532", "A.Ş.", 1),
    ("Canada", "ca", "+1 416", "Inc.", 2),
    ("Australia", "com.au", "+61 4", "Pty Ltd", 1),
    ("Japan", "jp", "+81 90", "K.K.", 1),
]

COMPANY_ROOTS = [
    "Nordwind", "Blauwe Reiger", "Vandersteen", "Clearwater", "Alpenglühen", "Lindgren",
    "Osprey", "Stonebridge", "Meridian", "Polaris", "Waddenzee", "Moselle", "Delta", "Harbourside",
    "Cobalt", "Tulpenveld", "Lighthouse", "Kilimanjaro", "Heron", "Basalt", "Skyline", "Juniper",
    "Lumière", "Maplewood", "Nova", "Orion", "Pathfinder", "Quarzwerk", "Sequoia", "Silverbirch",
    "Summitview", "Terranova", "Vertex", "Willowbank", "Zenit", "Ærøskøbing", "Müller", "Schröder",
    "Sørensen", "Dubois", "Lefèvre", "García", "Nowak", "Janssens", "De Jong", "Bakker",
    "O'Sullivan", "Brennan", "Fjordline", "Königsberg", "Étoile", "Løvdahl", "Oranjeboom",
    "NXT", "ACME", "KPN-Partners", "bright&co", "de Groene Vallei", "e-Motion", "Herengracht",
    "Crownfield", "Mercator", "Hanseatic", "Zürichsee", "Çelik", "Šimek", "Yamamoto", "Åkesson",
    "Blue Ocean", "Red Kite", "Greenfield", "Ironbark", "Copperleaf", "Goldcrest", "Riverstone",
]
COMPANY_SUFFIX: dict[str, str] = {
    "Software": "Software", "Labs": "Software", "Systems": "Software", "Werke": "Manufacturing",
    "Manufacturing": "Manufacturing", "Industries": "Manufacturing", "Capital": "Finance",
    "Bank": "Finance", "Finanz": "Finance", "Health": "Healthcare", "Medical": "Healthcare",
    "Retail": "Retail", "Stores": "Retail", "Logistics": "Logistics", "Transport": "Logistics",
    "Energy": "Energy", "Energie": "Energy", "Academy": "Education", "Learning": "Education",
    "Media": "Media", "Studios": "Media", "Consulting": "Consulting", "Advisory": "Consulting",
    "Partners": "Consulting",
}

FIRST_NAMES = [
    "Jan", "Sanne", "Pieter", "Femke", "Daan", "Lotte", "Bram", "Anouk", "Lukas", "Anna", "Jürgen",
    "Sophie", "Maximilian", "Lena", "Jörg", "Björn", "Günther", "Camille", "Léa", "François",
    "Hélène", "Chloé", "Jérôme", "Zoé", "Gaëlle", "James", "Emma", "Oliver", "Olivia", "Harry",
    "Amelia", "Michael", "Sarah", "David", "Emily", "Liam", "Charlotte", "Seán", "Zoë", "Siobhán",
    "Søren", "Åsa", "Łukasz", "Małgorzata", "José", "João", "Núria", "Sigríður", "Priya", "Wei",
    "Aiko", "Ömer", "Ayşe", "Mateo", "Lucía", "Noah", "Mia", "Elif", "Tomáš", "Ingrid",
]
LAST_NAMES = [
    "de Vries", "van den Berg", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
    "Mulder", "van Dijk", "Dekker", "IJzerman", "Müller", "Schmidt", "Schneider", "Fischer",
    "Weber", "Schäfer", "Hoffmann", "Köhler", "Groß", "Weiß", "von Arnim", "Martin", "Bernard",
    "Dubois", "Lefèvre", "Girard", "Roux", "Fontaine", "Smith", "Jones", "Williams", "Brown",
    "Taylor", "O'Brien", "Murphy", "Walker", "Wright", "McCarthy", "Sørensen", "Lindqvist",
    "Nowak", "Kowalski", "García", "Fernández", "Gonçalves", "Øvergaard", "Åberg", "Jónsdóttir",
    "Patel", "Chen", "Tanaka", "Yılmaz", "Öztürk", "Novák", "Dvořák", "Kim", "Nguyen", "Rossi",
]

JOB_TITLES = [
    "CEO", "CTO", "CFO", "Head of IT", "IT Manager", "Procurement Manager", "Purchasing Officer",
    "Marketing Director", "Sales Manager", "Account Manager", "Project Manager", "Office Manager",
    "Software Engineer", "Product Owner", "Operations Manager", "HR Business Partner",
    "Geschäftsführer", "Directeur commercial", "Inkoper", "VP Sales EMEA", "scrum master",
    "Jira Administrator", "Head of Customer Success", "Consultant",
]

FREE_MAIL = ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "web.de", "gmx.de",
             "icloud.com", "proton.me", "orange.fr", "ziggo.nl"]

PRODUCTS = [
    "Jira Licences", "Confluence Cloud", "Atlas CRM Rollout", "Support Contract", "Consulting Days",
    "Migration Project", "Training Package", "Premium Support", "Data Center Upgrade",
    "Add-on Bundle", "Service Desk Setup", "Managed Hosting", "Onboarding & Training",
    "Licence Renewal", "Custom Integration",
]

COMPANY_DESCRIPTIONS = [
    "Long-standing customer since {year}. Uses Jira Software and Confluence.",
    "Family-owned business, {employees} employees.\nDecision making is slow; involve the board early.",
    "Partner of ours in {country}.",
    "Interested in migrating from Server to Cloud.",
    "Key account — quarterly business reviews.\nContact via the main office only.",
    "Prospect from the {year} trade fair. Asked for a demo.",
    "Subsidiary of a larger group; procurement is centralised.",
    "Uses a competitor CRM today; contract ends in {year}.",
]
CONTACT_NOTES = [
    "Prefers e-mail over phone.", "Met at the Atlassian Community Event.",
    "Champion for the rollout.\nSend the case study.", "On parental leave until further notice.",
    "Speaks Dutch, German and English.", "Asked to be called back after the holidays.",
    "Very technical — loves the API.", "Not the decision maker; reports to the CFO.",
]
SALE_DESCRIPTIONS = [
    "{product} for {company}.", "Upsell after successful pilot.\nBudget approved for Q{q}.",
    "Renewal of the {year} contract.", "Competitive deal; price-sensitive.",
    "Needs security review before signing.", "Multi-year agreement (3 years).",
]
LOSS_REASONS = [
    "Price too high.", "Chose a competitor.", "No budget this year.\nRevisit next year.",
    "Project cancelled.", "Went with an in-house solution.", "No response after the demo.",
]
BIOS = [
    "Atlassian enthusiast and coffee lover ☕.", "Former developer, now in management.",
    "Runs the local Jira user group.", "Marathon runner; based in {city}.",
    "Joined the company in {year}.", "Writes about agile teams on LinkedIn.",
]
COMPANY_NOTES = [
    "Invoice via the procurement portal.", "VAT-exempt (intra-EU).", "Send contracts to legal@.",
    "Christmas card list.", "Do not call on Fridays.", "Requires PO number on every invoice.",
]
REGIONS = ["EMEA", "North America", "DACH", "Benelux", "Nordics", "APAC", "UK & Ireland",
           "Southern Europe", "emea", "Dach"]
CITIES = ["Amsterdam", "München", "London", "Paris", "Köln", "Zürich", "New York", "Malmö",
          "Kraków", "Utrecht", "Wien", "São Paulo"]
REFERRAL_CODES = ["Q4+EMEA", "R&D-2024", "PARTNER=GOLD", "50% OFF", "[BETA]", "O'Reilly",
                  "spring-promo", "Früh-Bucher", "REF#42", 'say "hi"']
