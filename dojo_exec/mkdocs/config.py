"""Options of the ``dojo_exec`` MkDocs plugin (``plugins: - dojo_exec: {...}``)."""

from __future__ import annotations

from mkdocs.config import config_options as c
from mkdocs.config.base import Config

WARN_OR_IGNORE = ("warn", "ignore")


class DojoExecConfig(Config):
    """Plugin options.

    - ``enabled``: ``false`` turns the plugin off entirely: nothing is parsed, rendered or
      generated, and the tagged fences go to the Markdown extensions as they are (which do
      not read them as code blocks). To show steps as plain code blocks, use ``mode: off``.
    - ``transcripts``: directory of recorded runs, relative to ``mkdocs.yml``.
    - ``mode``: ``recorded`` builds from committed transcripts (no Docker needed); ``live``
      runs the steps during the build (``dojo_exec.runner.run_pages``) and then renders the
      fresh transcripts; ``off`` renders steps as plain code blocks (commands and promises,
      no results) and the report page only says that results are not shown.
    - ``missing``: a step (or page) with no recorded run → ``warn`` or ``ignore``.
    - ``failed``: a step whose latest run failed, timed out or errored → ``warn``/``ignore``.
    - ``stale``: a step edited since its latest run → ``warn``/``ignore``.
    - ``report_page``: path of the report page, or ``false`` for none. A page of that name in
      the docs (as a site that also builds with Zensical has) keeps its own text and gets the
      report where it has a ``<!-- dojo_exec: report -->`` line; else the page is generated.
    - ``slides``: the workshop deck (a Markdown file, relative to ``mkdocs.yml``; see
      :mod:`dojo_exec.slides`), built into ``<site_dir>/slides/`` after the site; ``""``: none.
    - ``slides_page``: path of the page that links to the deck (for the nav), generated
      unless the docs have one, or ``false`` for none.

    The steps themselves are rendered by the ``dojo_exec.markdown`` extension: listed under
    ``markdown_extensions:`` (for Zensical) or not, the plugin configures it with these
    options (both must name the same ``transcripts``).
    - ``driver``: machines for ``live`` mode: ``embedded`` (default), ``none`` (pages that
      need no machines), or a real docker-machine driver.

    Warnings go through MkDocs' logger, so ``mkdocs build --strict`` fails on them.
    """

    enabled = c.Type(bool, default=True)
    transcripts = c.Type(str, default="transcripts")
    mode = c.Choice(("recorded", "live", "off", False), default="recorded")  # YAML: off → False
    missing = c.Choice(WARN_OR_IGNORE, default="warn")
    failed = c.Choice(WARN_OR_IGNORE, default="warn")
    stale = c.Choice(WARN_OR_IGNORE, default="warn")
    report_page = c.Type((str, bool), default="report.md")
    driver = c.Type(str, default="embedded")
    slides = c.Type(str, default="")
    slides_page = c.Type((str, bool), default="slides.md")
    # more console prompts, e.g. ["# "] (read by the page parser, see dojo_exec.settings)
    prompts = c.ListOfItems(c.Type(str), default=[])
    # placeholders in commands and their values, e.g. {"<MANAGER-IP>": "192.168.99.100"}
    values = c.Type(dict, default={})  # type: ignore[assignment]  # shadows Mapping.values
