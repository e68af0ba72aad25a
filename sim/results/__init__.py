"""Results: run scenarios, write and read results folders, and derive tables from them.

``atomic`` (the one writer of files and folders), ``runner`` (replicated runs and their folder),
``provenance`` (versions, commit and command for every manifest), ``folder`` (the one reader of a
results folder, and the judge of a folder's kind), ``observe`` (observables of a results folder),
``compare`` (difference tables), ``attribution`` (channel and event contributions) and
``validation`` (the stylized facts). Imports :mod:`sim.input` and :mod:`sim.model`.
"""
