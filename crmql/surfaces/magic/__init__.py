"""``%crmql`` and ``%%crmql``: crmql in IPython and Jupyter.

    %load_ext crmql
    %crmql SELECT name, start FROM azavista.events WHERE event_type = :kind LIMIT 20
    df = %crmql SELECT * FROM azavista.contacts
    %%crmql contacts <<
    SELECT first_name, last_name, email FROM azavista.contacts WHERE country = :country

Options, before the statement (``%%crmql``: on the magic's own line):

    --explain          show the plan instead of running the query
    --analyze          run the query and show the plan with what it cost (EXPLAIN ANALYZE)
    --limit N, -l N    show at most N rows (display only; the DataFrame keeps every row)
    --config PATH      use this config file instead of the default one
    --format FMT       display as dataframe (default), table, markdown, csv, json or jsonl
    -o NAME, NAME <<   also store the result in the variable NAME

``:name`` is bound to the Python variable ``name`` as a value (never pasted into the text).
Errors are IPython ``UsageError`` s: one message, no traceback. Results show as the DataFrame
plus a caption (``4,213 rows · 86 requests · 1.9 s``, and ``showing 10 of 4,213 rows`` when the
display is cut); scans longer than half a second show a progress bar; interrupting the kernel
cancels the scan. Tables complete after FROM and JOIN, columns of the tables in scope elsewhere.

``%config Crmql.display_limit = 20`` (0: every row), ``%config Crmql.format = 'table'``,
``%config Crmql.config_file = 'crmql.toml'``, ``%config Crmql.progress = False``.

>>> parse_options("--limit 5 -o df SELECT 1 FROM a.b")
(Options(explain=False, analyze=False, limit=5, config=None, format=None, out='df'), 'SELECT 1 FROM a.b')
>>> parse_options("df << SELECT x FROM a.b")[0].out
'df'
"""

from __future__ import annotations

from .complete import Completer
from .display import ResultView, TextResult
from .magics import Crmql, bind_from_namespace, load_ipython_extension, param_names, unload_ipython_extension
from .options import DISPLAY_FORMATS, USAGE, Options, parse_options

__all__ = ["Crmql", "Options", "ResultView", "TextResult", "load_ipython_extension", "parse_options",
           "unload_ipython_extension"]

# Also importable from here, as before the split (not part of __all__).
_REEXPORTED = (Completer, DISPLAY_FORMATS, USAGE, bind_from_namespace, param_names)
