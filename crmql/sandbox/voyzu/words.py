"""Vocabulary of the Voyzu sandbox: the names, companies, places, labels, contact types and custom
fields of a Google-Workspace-style shared contact list (a small agency's customers, leads, vendors
and partners in New Zealand, Australia, the UK and the US: Voyzu is a New Zealand product).

A few names carry what free-text search and crmql's push-down must survive: apostrophes
(O'Brien), hyphens (Smith-Jones), accents (José, Zoë), a company with a whole word ``AND`` in it,
``+`` in an email address.

>>> len(FIRST_NAMES) > 60 and len(LAST_NAMES) > 60
True
>>> all(label.startswith("#") for label in LABELS) and SHARED_LABEL in LABELS
True
>>> all(len(name) <= 30 and name.startswith("#") for name, _, _ in CUSTOM_FIELDS)
True
"""

from __future__ import annotations

__all__ = ["CITIES", "COMPANIES", "COMPANY_SUFFIXES", "CONTACT_TYPES", "CUSTOM_FIELDS", "DEPARTMENTS",
           "FIRST_NAMES", "JOB_TITLES", "LABELS", "LAST_NAMES", "NOTES", "SHARED_LABEL", "SHEETS", "STREETS"]

FIRST_NAMES = (
    "James", "Olivia", "Jack", "Charlotte", "Oliver", "Amelia", "William", "Isla", "Noah", "Ava", "Thomas", "Mia",
    "Liam", "Grace", "Lucas", "Sophie", "Hunter", "Ella", "George", "Harper", "Samuel", "Emily", "Leo", "Ruby",
    "Henry", "Lily", "Max", "Zoë", "Benjamin", "Chloe", "Mason", "Isabella", "Arlo", "Evie", "Hugo", "Matilda",
    "Nikau", "Aroha", "Tama", "Mere", "Wiremu", "Anahera", "Rāwiri", "Hana", "José", "María", "Wei", "Mei",
    "Raj", "Priya", "Arjun", "Ananya", "Sione", "Losana", "Daniel", "Hannah", "Michael", "Sarah", "David",
    "Rachel", "Andrew", "Laura", "Peter", "Fiona", "Mark", "Nicola", "Chris", "Anna", "Sean", "Niamh",
)
LAST_NAMES = (
    "Smith", "Williams", "Brown", "Wilson", "Taylor", "Jones", "Anderson", "Thompson", "Walker", "Harris",
    "Martin", "Clarke", "White", "Young", "King", "Mitchell", "Campbell", "Scott", "Robinson", "Hall",
    "Ngata", "Parata", "Tūhoe", "Walker-Ngata", "Te Aho", "Kereama", "Patel", "Singh", "Sharma", "Chen",
    "Wang", "Li", "Zhang", "Nguyen", "Tran", "Kim", "Park", "García", "López", "Fernández", "O'Brien",
    "O'Connor", "McDonald", "MacKenzie", "Smith-Jones", "Fa'amoe", "Tuilagi", "Fifita", "Müller", "Schmidt",
    "van der Berg", "de Vries", "Rossi", "Bianchi", "Kowalski", "Novak", "Eriksson", "Larsen", "Dubois",
    "Moreau", "Murphy", "Kelly", "Byrne", "Ryan", "Evans", "Hughes", "Lewis", "Morgan", "Price", "Shaw",
)
COMPANY_STEMS = (
    "Kauri", "Harbourside", "Southern Cross", "Tasman", "Pohutukawa", "Silver Fern", "Red Tussock", "Bluegum",
    "Wattle", "Coral Coast", "Highland", "Thames", "Pennine", "Golden Gate", "Cascade", "Riverbend", "Northshore",
    "Ironbark", "Kowhai", "Matai", "Rimu", "Totara", "Aoraki", "Waitemata", "Ponsonby", "Bondi", "Fremantle",
    "Brighton", "Cotswold", "Hudson", "Pacific", "Antipodes", "Summit", "Keystone", "Lighthouse", "Driftwood",
)
COMPANY_SUFFIXES = (
    "Ltd", "Limited", "Pty Ltd", "Group", "Holdings", "Consulting", "Partners", "& Co", "Solutions", "Digital",
    "Logistics", "Properties", "Trust", "Studio", "Engineering", "Foods", "Health", "Law", "Accountants", "Inc.",
)
#: whole companies that a free-text search must not mistake for an operator (``AND``) or a flag (``-``)
COMPANIES = ("Smith AND Sons", "Black & White Printing", "Fish-Hook Tackle", "Ōtaki Honey Co-op", "A+ Tutors",
             "Not Just Bikes", "Or Else Design")
JOB_TITLES = (
    "Director", "Managing Director", "Office Manager", "Operations Manager", "Accountant", "Account Manager",
    "Sales Manager", "Sales Representative", "Marketing Coordinator", "Marketing Manager", "Owner", "CEO",
    "CFO", "General Manager", "Project Manager", "Practice Manager", "Receptionist", "Purchasing Officer",
    "Customer Success Lead", "Head of Partnerships", "Software Engineer", "Designer", "Consultant", "Solicitor",
)
DEPARTMENTS = ("Sales", "Marketing", "Finance", "Operations", "Procurement", "IT", "Legal", "Customer Service",
               "Human Resources", "Management")
#: (City, Region, Country, postal code pattern: ``#`` a digit)
CITIES = (
    ("Auckland", "Auckland", "New Zealand", "10##"), ("Wellington", "Wellington", "New Zealand", "60##"),
    ("Christchurch", "Canterbury", "New Zealand", "80##"), ("Hamilton", "Waikato", "New Zealand", "32##"),
    ("Tauranga", "Bay of Plenty", "New Zealand", "31##"), ("Dunedin", "Otago", "New Zealand", "90##"),
    ("Queenstown", "Otago", "New Zealand", "9300"), ("Nelson", "Nelson", "New Zealand", "70##"),
    ("Sydney", "NSW", "Australia", "20##"), ("Melbourne", "VIC", "Australia", "30##"),
    ("Brisbane", "QLD", "Australia", "40##"), ("Perth", "WA", "Australia", "60##"),
    ("London", "Greater London", "United Kingdom", "EC1A #BB"), ("Manchester", "Greater Manchester",
    "United Kingdom", "M# #AA"), ("Edinburgh", "Scotland", "United Kingdom", "EH# #YJ"),
    ("San Francisco", "CA", "United States", "941##"), ("Seattle", "WA", "United States", "981##"),
    ("Austin", "TX", "United States", "787##"), ("Boston", "MA", "United States", "021##"),
)
STREETS = ("Queen Street", "Victoria Street", "High Street", "Main Road", "Ponsonby Road", "Lambton Quay",
           "Cuba Street", "George Street", "Collins Street", "King Street", "Church Road", "Station Road",
           "Market Street", "Harbour View Drive", "Kowhai Avenue", "Elm Street", "Oak Lane", "Beach Road")
#: the documented defaults (CUSTOMER, LEAD, VENDOR) plus the sandbox customer's own PARTNER, with weights
CONTACT_TYPES = {"CUSTOMER": 0.45, "LEAD": 0.3, "VENDOR": 0.12, "PARTNER": 0.06}
SHARED_LABEL = "#voyzu shared"
#: the system label first (on every contact), then the customer's own labels
LABELS = (SHARED_LABEL, "#newsletter", "#vip", "#christmas card", "#event 2025", "#webinar attendees",
          "#referral", "#board", "#suppliers", "#key accounts", "#follow up", "#conference sydney")
#: (Name, Type, values for LIST / None): names letters, digits and spaces, <= 30 characters, '#'-prefixed
CUSTOM_FIELDS = (
    ("#Region", "LIST", ("North", "South", "East", "West", "Central")),
    ("#Account Number", "TEXT", None),
    ("#Annual Revenue", "NUMBER", None),
    ("#Renewal Date", "DATE", None),
    ("#Opted In", "CHECKBOX", None),
    ("#Preferred Contact Method", "LIST", ("Email", "Phone", "Text message", "Post")),
    ("#Employees", "NUMBER", None),
    ("#Account Manager", "TEXT", None),
)
NOTES = (
    "Met at the Auckland trade show.", "Prefers email, never call before 10am.", "Referred by a customer.",
    "Asked for a quote in March.", "Invoice queries go to accounts.", "Do not send marketing material.",
    "Interested in the premium plan.", "Call back after the holidays.", "Key decision maker.",
    "Signed the 2-year contract.", "Sends a Christmas card every year.", "Spoke at our webinar.",
)
#: spreadsheet names (the sandbox customer's Google Sheets exports)
SHEETS = ("Contacts export", "Customers by region", "Leads 2025", "Newsletter list", "Vendors and suppliers",
          "Event 2025 attendees", "Key accounts review", "Unsubscribed contacts", "Import template",
          "Christmas card list", "Partner directory", "Board members")
