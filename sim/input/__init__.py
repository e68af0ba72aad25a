"""Input: scenario and sweep-independent files read from disk, checked, and explained.

Errors with file, line and field path (``errors``), safe YAML with line numbers and deep merge
(``yamlsource``), the wording of schema errors (``schema_errors``), where the shipped data lives
(``bundled``), the scenario schema and loader (``scenario``), every number's path and provenance
(``params``) and the evidence base (``evidence``). Imports nothing from the other sub-packages.
"""
