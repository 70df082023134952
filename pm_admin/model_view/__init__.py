"""The parts ``pm_admin.admin.SecureModelView`` is composed of, each a mixin with one job:

- ``permissions``: every endpoint and action needs its declared permission;
- ``scoping``: queries, look-ups and form choices stay inside the user's scope;
- ``prefill``: a create form starts with the records its link names;
- ``saving``: a form's record is kept or removed through the domain's rules;
- ``listing``: list arguments stay plausible and a page is read in two statements;
- ``searching``: the search box's terms, matched across related rows;
- ``exporting``: the list, as the user sees it, streamed to a workbook;
- ``error_messages``: what went wrong, as a message the user understands;
- ``details``: the details page as a file: header, actions, sections, history;
- ``stepping``: a workflow's steps as buttons, bulk actions and step pages;
- ``columns`` and ``fields``: how columns show, and become form fields and filters.
"""
