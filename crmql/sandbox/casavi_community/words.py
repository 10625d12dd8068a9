"""Vocabulary of the casavi Community simulator: what residents report and what managers answer.

Ticket types, per type the titles (``unit``: about a flat, else about the common parts) with a
description, the comments staff and residents write, appointments, official posts (Aushänge),
important contacts, FAQ articles, and the texts of notifications and activities. German, as a
German property manager's residents write it.

>>> sorted(TICKET_TYPES)
[1, 2, 3, 4, 5, 6]
>>> all(len(TICKETS[t]) >= 4 for t in TICKET_TYPES)
True
"""

from __future__ import annotations

#: ticket type id -> name (the ticket types a manager sets up; ids 1..6)
TICKET_TYPES: dict[int, str] = {1: "Schadensmeldung", 2: "Reparatur", 3: "Frage zur Abrechnung",
                                4: "Lärmbelästigung", 5: "Schlüssel & Zugang", 6: "Sonstiges"}
#: how often each type is reported (weights, same order as the ids)
TYPE_WEIGHTS = (30, 25, 12, 10, 10, 13)

#: status -> statusText (as the resident app shows it)
STATUS_TEXT = {"OPEN": "Offen", "IN_PROGRESS": "In Bearbeitung", "WAITING": "Wartet auf Rückmeldung",
               "CLOSED": "Erledigt"}

#: ticket type id -> [(title, description, about a unit?)]
TICKETS: dict[int, list[tuple[str, str, bool]]] = {
    1: [("Wasserschaden im Badezimmer", "An der Decke im Bad hat sich ein großer Wasserfleck gebildet, "
         "vermutlich von der Wohnung darüber. Es tropft seit gestern Abend.", True),
        ("Heizung fällt aus", "Alle Heizkörper in der Wohnung bleiben kalt, obwohl das Thermostat auf 5 steht.", True),
        ("Schimmel im Schlafzimmer", "In der Ecke hinter dem Schrank wächst Schimmel. Wir lüften täglich.", True),
        ("Aufzug defekt", "Der Aufzug bleibt zwischen dem 2. und 3. Stock stehen und die Tür öffnet nicht.", False),
        ("Fenster undicht", "Bei Regen läuft Wasser am Wohnzimmerfenster herein, die Dichtung ist porös.", True),
        ("Rohrbruch im Keller", "Im Kellergang steht Wasser, es kommt aus einem Rohr neben dem Zählerraum.", False),
        ("Riss in der Fassade", "Neben dem Hauseingang ist ein langer Riss im Putz, er scheint größer zu werden.", False),
        ("Kein Warmwasser", "Seit heute Morgen kommt nur kaltes Wasser aus allen Hähnen.", True)],
    2: [("Klingel funktioniert nicht", "Unsere Klingel unten an der Haustür läutet nicht mehr in der Wohnung.", True),
        ("Treppenhausbeleuchtung defekt", "Im 3. OG bleibt das Licht im Treppenhaus dunkel.", False),
        ("Haustür schließt nicht richtig", "Die Haustür fällt nicht mehr ins Schloss, der Türschließer ist locker.", False),
        ("Rollladen klemmt", "Der Rollladen im Kinderzimmer lässt sich nur noch halb hochziehen.", True),
        ("Wasserhahn tropft", "Der Wasserhahn in der Küche tropft auch zugedreht ständig.", True),
        ("Briefkasten beschädigt", "Die Klappe unseres Briefkastens ist abgebrochen.", True),
        ("Garagentor öffnet nicht", "Das Tor der Tiefgarage reagiert nicht mehr auf die Fernbedienung.", False),
        ("Heizkörperventil defekt", "Das Ventil am Heizkörper im Flur lässt sich nicht mehr drehen.", True)],
    3: [("Frage zur Nebenkostenabrechnung", "In der Nebenkostenabrechnung sind die Kosten für den Hausmeister "
         "deutlich höher als im Vorjahr. Können Sie das erklären?", True),
        ("Nachzahlung Heizkosten", "Die Nachzahlung für die Heizkosten ist sehr hoch. Bitte um Belegeinsicht.", True),
        ("Hausgeld ab Januar", "Wie hoch ist das Hausgeld ab Januar nach dem neuen Wirtschaftsplan?", True),
        ("Vorauszahlungen anpassen", "Wir möchten unsere monatlichen Vorauszahlungen erhöhen. Was müssen wir tun?", True),
        ("Abrechnung nicht erhalten", "Wir haben die Jahresabrechnung noch nicht bekommen.", True)],
    4: [("Lärm in der Nacht", "Aus der Wohnung über uns kommt fast jede Nacht nach 23 Uhr laute Musik.", True),
        ("Hund bellt ständig", "Im Nachbarhaus bellt tagsüber stundenlang ein Hund, wenn die Besitzer weg sind.", False),
        ("Bauarbeiten am Sonntag", "Am Sonntag wurde in einer Wohnung im 2. OG gebohrt.", False),
        ("Lärm im Hof", "Im Innenhof wird abends bis spät laut gefeiert.", False),
        ("Trittschall aus der Nachbarwohnung", "Seit dem Einzug der neuen Nachbarn ist der Trittschall sehr laut.", True)],
    5: [("Schlüssel verloren", "Ich habe meinen Wohnungsschlüssel verloren und brauche einen neuen.", True),
        ("Zusätzlicher Haustürschlüssel", "Wir benötigen einen weiteren Haustürschlüssel für unsere Tochter.", True),
        ("Transponder für die Tiefgarage", "Mein Transponder öffnet die Tiefgarage nicht mehr.", True),
        ("Briefkastenschlüssel fehlt", "Beim Einzug haben wir keinen Briefkastenschlüssel bekommen.", True),
        ("Zugang zum Fahrradkeller", "Der Schlüssel für den Fahrradkeller passt nicht mehr, wurde das Schloss getauscht?", False)],
    6: [("Sperrmüll im Hof", "Neben den Mülltonnen steht seit Wochen ein altes Sofa.", False),
        ("Mülltonnen überfüllt", "Die Papiertonnen sind schon Tage vor der Leerung voll.", False),
        ("Namensschild ändern", "Bitte tauschen Sie das Namensschild an Klingel und Briefkasten aus.", True),
        ("Anfrage Balkonkraftwerk", "Dürfen wir ein Balkonkraftwerk am Balkongeländer anbringen?", True),
        ("Fahrräder im Treppenhaus", "Im Treppenhaus stehen dauerhaft Fahrräder und versperren den Weg.", False),
        ("Winterdienst", "Der Gehweg vor dem Haus wurde heute Morgen nicht geräumt.", False)],
}

#: ticket type id -> [(custom field label, possible values)]
CUSTOM_FIELDS: dict[int, list[tuple[str, tuple[str, ...]]]] = {
    1: [("Ort des Schadens", ("Badezimmer", "Küche", "Wohnzimmer", "Treppenhaus", "Keller", "Dach")),
        ("Seit wann besteht der Schaden?", ("seit heute", "seit gestern", "seit einer Woche", "länger"))],
    2: [("Gewerk", ("Sanitär", "Elektro", "Schlosser", "Heizung", "Tischler")),
        ("Zugang zur Wohnung möglich", ("vormittags", "nachmittags", "nach Absprache"))],
    3: [("Abrechnungsjahr", ("2023", "2024", "2025"))],
    4: [("Uhrzeit", ("tagsüber", "abends", "nachts"))],
    5: [("Anzahl Schlüssel", ("1", "2", "3"))],
    6: [],
}

STAFF_COMMENTS = (
    "Vielen Dank für Ihre Meldung. Wir kümmern uns darum.",
    "Wir haben einen Handwerker beauftragt, er meldet sich in den nächsten Tagen bei Ihnen.",
    "Der Termin mit der Firma ist für Donnerstag zwischen 8 und 12 Uhr vereinbart.",
    "Können Sie uns bitte ein Foto schicken?",
    "Die Reparatur ist erledigt. Bitte melden Sie sich, falls es weiterhin Probleme gibt.",
    "Wir haben die Versicherung informiert und warten auf die Rückmeldung.",
    "Die Belege können Sie nach Terminvereinbarung in unserem Büro einsehen.",
    "Wir haben den Hausmeister gebeten, sich das anzusehen.",
)
RESIDENT_COMMENTS = (
    "Danke für die schnelle Rückmeldung!",
    "Hier ist das Foto vom Schaden.",
    "Der Handwerker war leider nicht da, wir haben umsonst gewartet.",
    "Das Problem besteht leider weiterhin.",
    "Donnerstag passt uns gut.",
    "Alles erledigt, vielen Dank.",
)
RATING_COMMENTS = ("Schnell und unkompliziert, danke!", "Hat leider lange gedauert.", None, "Sehr freundlich.",
                   None, "Alles bestens.")

#: (title, description, all day?, location, hours long (0: no end))
APPOINTMENTS = (
    ("Eigentümerversammlung", "Ordentliche Eigentümerversammlung, die Einladung mit Tagesordnung folgt per Post.",
     False, "Gemeindesaal", 3),
    ("Heizungswartung", "Die jährliche Wartung der Heizungsanlage. Bitte den Zugang zum Heizungsraum freihalten.",
     False, "Heizungsraum", 4),
    ("Treppenhausreinigung", "Grundreinigung des Treppenhauses. Bitte keine Schuhe vor den Türen abstellen.",
     False, "Treppenhaus", 3),
    ("Ablesung der Wasserzähler", "Der Ablesedienst liest die Wasserzähler ab. Bitte ermöglichen Sie den Zugang.",
     False, "in den Wohnungen", 5),
    ("Ablesung der Heizkostenverteiler", "Funkablesung, ein Zugang zu den Wohnungen ist nicht nötig.",
     True, "", 0),
    ("Sperrmüllabholung", "Sperrmüll bitte erst am Vorabend an die Straße stellen.", True, "vor dem Haus", 0),
    ("Wartung des Aufzugs", "Der Aufzug ist während der Wartung außer Betrieb.", False, "Aufzug", 2),
    ("Gartenpflege", "Rückschnitt der Hecken und Laubentfernung.", True, "Garten", 0),
    ("Beiratssitzung", "Sitzung des Verwaltungsbeirats mit der Hausverwaltung.", False, "Büro der Hausverwaltung", 2),
    ("Rauchmelderwartung", "Jährliche Prüfung der Rauchwarnmelder in allen Wohnungen.", False, "in den Wohnungen", 6),
    ("Dachrinnenreinigung", "Reinigung der Dachrinnen, der Hof ist vormittags gesperrt.", False, "Hof", 4),
)

#: (title, text) of official posts (Aushänge)
POSTS = (
    ("Heizperiode beginnt", "Ab dem 1. Oktober ist die Heizung wieder in Betrieb. Bitte entlüften Sie Ihre Heizkörper."),
    ("Wasserabstellung", "Wegen Arbeiten an der Hauptleitung ist das Wasser am Dienstag von 9 bis 13 Uhr abgestellt."),
    ("Neue Hausordnung", "Die Eigentümerversammlung hat eine neue Hausordnung beschlossen. Sie finden sie in den Dokumenten."),
    ("Mülltrennung", "Bitte trennen Sie Ihren Müll sorgfältig. Kartons gehören zerkleinert in die Papiertonne."),
    ("Fahrradkeller aufräumen", "Nicht gekennzeichnete Fahrräder werden in vier Wochen entfernt. Bitte markieren Sie Ihr Rad."),
    ("Winterdienst", "Der Winterdienst übernimmt ab Dezember die Firma Grünwerk. Bei Problemen melden Sie sich bei uns."),
    ("Neuer Hausmeister", "Ab dem nächsten Monat betreut Herr Yilmaz Ihr Haus. Er ist montags und donnerstags vor Ort."),
    ("Treppenhaus freihalten", "Aus Brandschutzgründen dürfen im Treppenhaus keine Gegenstände abgestellt werden."),
    ("Jahresabrechnung versendet", "Die Jahresabrechnung wurde versendet und steht auch im Portal zum Download bereit."),
    ("Bürozeiten zwischen den Jahren", "Unser Büro ist vom 24.12. bis 1.1. geschlossen. Der Notdienst ist erreichbar."),
    ("Legionellenprüfung", "Die Trinkwasseranlage wird auf Legionellen geprüft. Das Ergebnis war unauffällig."),
    ("Rauchmelder", "Bitte denken Sie an den Termin zur Rauchmelderwartung und ermöglichen Sie den Zugang."),
)

#: (category, company, note) of important contacts; phones and e-mails are made per community
IMPORTANT_CONTACTS = (
    ("Hausverwaltung", "Hausverwaltung Sonnenschein GmbH", "Bürozeiten Mo-Fr 9-16 Uhr"),
    ("Notdienst", "Notdienst Hausverwaltung Sonnenschein", "Nur außerhalb der Bürozeiten, bei Notfällen"),
    ("Hausmeister", "Haus & Hof Dienste UG (haftungsbeschränkt)", None),
    ("Sanitär", "Sanitär Huber & Söhne GmbH", "Rohrbruch, Verstopfung, Warmwasser"),
    ("Elektro", "Elektro Schäfer GmbH", None),
    ("Schlüsseldienst", "Schlüsseldienst Aufsperr-Express", "Kosten trägt der Verursacher"),
    ("Aufzug", "Aufzugsnotruf KONE", "24/7 erreichbar, Nummer auch in der Kabine"),
)

FAQ_GROUPS = {1: "Allgemeines", 2: "Schäden melden", 3: "Abrechnung", 4: "Wohnen & Hausordnung"}
#: (group id, title, content) of the articles every community sees
FAQ_GLOBAL = (
    (1, "Wie erreiche ich die Hausverwaltung?", "Über die App, per E-Mail oder zu den Bürozeiten telefonisch."),
    (1, "Wie ändere ich meine Kontaktdaten?", "In der App unter Profil > Persönliche Daten."),
    (1, "Wer hat Zugriff auf meine Meldungen?", "Nur die Hausverwaltung und die beauftragten Handwerker."),
    (2, "Wie melde ich einen Schaden?", "Legen Sie in der App eine Meldung an und fügen Sie Fotos hinzu."),
    (2, "Was ist ein Notfall?", "Wasserrohrbruch, Heizungsausfall im Winter, Gasgeruch: rufen Sie den Notdienst an."),
    (2, "Wer bezahlt die Reparatur?", "Das hängt vom Schaden ab; Kleinreparaturen trägt oft der Mieter."),
    (3, "Wann kommt die Nebenkostenabrechnung?", "Spätestens zwölf Monate nach Ende des Abrechnungszeitraums."),
    (3, "Wie kann ich die Belege einsehen?", "Nach Terminvereinbarung in unserem Büro oder digital im Portal."),
    (3, "Wie ändere ich meine Bankverbindung?", "Schicken Sie uns ein neues SEPA-Lastschriftmandat."),
    (4, "Wann ist Ruhezeit?", "Laut Hausordnung von 22 bis 7 Uhr und von 13 bis 15 Uhr."),
    (4, "Darf ich einen Hund halten?", "Kleintiere ja; für Hunde und Katzen brauchen Sie unsere Zustimmung."),
    (4, "Wohin mit Sperrmüll?", "Melden Sie Sperrmüll bei der Stadt an; der Hof ist kein Lagerplatz."),
)
#: (group id, title, content) of articles one community has on top
FAQ_LOCAL = (
    (4, "Wo ist der Fahrradkeller?", "Im Untergeschoss, Zugang über den Hof; Ihr Kellerschlüssel passt."),
    (4, "Wie funktioniert die Waschküche?", "Tragen Sie sich in den Plan an der Tür ein; Waschmarken gibt es beim Hausmeister."),
    (1, "Wo finde ich den Hausmeister?", "Sprechzeit dienstags 17-18 Uhr im Hausmeisterbüro im Erdgeschoss."),
    (2, "Die Tiefgarage ist überflutet: was tun?", "Fahrzeuge nicht bewegen und sofort den Notdienst rufen."),
    (3, "Warum gibt es eine Sonderumlage?", "Die Eigentümer haben die Dachsanierung beschlossen; Details im Protokoll."),
)

DOCUMENTS = ("Protokoll der Eigentümerversammlung", "Wirtschaftsplan", "Jahresabrechnung", "Hausordnung",
             "Energieausweis", "Wartungsbericht Heizung", "Einladung zur Eigentümerversammlung")
NEIGHBORHOOD = ("Neuer Beitrag in der Nachbarschaft: Wer hat eine Bohrmaschine zu verleihen?",
                "Neuer Beitrag in der Nachbarschaft: Hoffest am Samstag", "Neuer Beitrag: Katze zugelaufen",
                "Neuer Beitrag in der Nachbarschaft: Pakete für Nachbarn angenommen")
CHAT = ("Neue Nachricht von der Hausverwaltung", "Neue Nachricht von Ihrem Nachbarn", "Neue Nachricht im Gruppenchat")
