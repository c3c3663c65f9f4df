"""docker-machine's output formats as pure functions (no Docker needed to test them).

Sources of truth are docker/machine's ``commands/{ls,env,config,inspect,rm}.go``: Go's tabwriter
with minwidth 5, tabwidth 1, padding 3 for ``ls``; the ``env`` shell templates; ``%q``-quoted
paths for ``config``; 4-space indented JSON for ``inspect``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LS_DEFAULT_FORMAT = (
    "table {{ .Name }}\t{{ .Active }}\t{{ .DriverName}}\t{{ .State }}\t{{ .URL }}\t"
    "{{ .Swarm }}\t{{ .DockerVersion }}\t{{ .Error}}"
)
LS_HEADERS = {
    "Name": "NAME",
    "Active": "ACTIVE",
    "ActiveHost": "ACTIVE_HOST",
    "ActiveSwarm": "ACTIVE_SWARM",
    "DriverName": "DRIVER",
    "State": "STATE",
    "URL": "URL",
    "SwarmOptions": "SWARM_OPTIONS",
    "Swarm": "SWARM",
    "EngineOptions": "ENGINE_OPTIONS",
    "Error": "ERRORS",
    "DockerVersion": "DOCKER",
    "ResponseTime": "RESPONSE",
}
SHELLS = ("bash", "sh", "zsh", "fish", "powershell", "cmd", "tcsh", "emacs")


class TemplateError(ValueError):
    """A Go-template-ish format that cannot be parsed or executed."""


@dataclass
class LsItem:
    """One row of ``ls`` (docker-machine's ``HostListItem``)."""

    Name: str
    Active: str = "-"
    ActiveHost: bool = False
    ActiveSwarm: bool = False
    DriverName: str = "embedded"
    State: str = ""
    URL: str = ""
    Swarm: str = ""
    Error: str = ""
    DockerVersion: str = "Unknown"
    ResponseTime: str = "0s"

    def fields(self) -> dict[str, Any]:
        values: dict[str, Any] = dict(vars(self))
        values["SwarmOptions"] = None
        values["EngineOptions"] = None
        return values


# -- Go template subset ----------------------------------------------------------------------
_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.S)
_PIPE_FUNCS = ("json", "prettyjson", "upper", "lower")


def _go_str(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{_go_str(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_str(v) for v in value) + "]"
    return str(value)


def _lookup(data: Any, path: str, type_name: str) -> Any:
    if path == ".":
        return data
    value = data
    for part in path.lstrip(".").split("."):
        if isinstance(value, Mapping):
            if part not in value:
                if type_name == "map":
                    return None
                raise TemplateError(
                    f'template: :1: executing "" at <{path}>: can\'t evaluate field {part} '
                    f"in type {type_name}"
                )
            value = value[part]
        else:
            raise TemplateError(f'template: :1: executing "" at <{path}>: nil pointer evaluating')
    return value


def render(template: str, data: Mapping[str, Any], type_name: str = "map") -> str:
    """Execute a Go template of the forms ``{{.A.B}}``, ``{{json .A}}``, ``{{prettyjson .A}}``.

    ``type_name`` names the Go type in errors; for ``"map"`` a missing key prints ``<no value>``.
    """
    out: list[str] = []
    pos = 0
    for match in _ACTION.finditer(template):
        out.append(template[pos : match.start()])
        pos = match.end()
        words = match.group(1).split()
        if not words:
            raise TemplateError("template: :1: missing value for command")
        func = None
        if words[0] in _PIPE_FUNCS and len(words) == 2:
            func, words = words[0], words[1:]
        if len(words) != 1 or not words[0].startswith("."):
            raise TemplateError(f'template: :1: function "{words[0]}" not defined')
        value = _lookup(data, words[0], type_name)
        if func == "json":
            out.append(json.dumps(value, separators=(",", ":")))
        elif func == "prettyjson":
            out.append(json.dumps(value, indent=4))
        elif func in ("upper", "lower"):
            text = _go_str(value)
            out.append(text.upper() if func == "upper" else text.lower())
        elif value is None and type_name == "map":
            out.append("<no value>")
        else:
            out.append(_go_str(value))
    if "{{" in template[pos:]:
        raise TemplateError("template: :1: unclosed action")
    out.append(template[pos:])
    return "".join(out)


# -- tabwriter -----------------------------------------------------------------------------------
def tabwrite(text: str, minwidth: int = 5, padding: int = 3) -> str:
    """Go's ``tabwriter.NewWriter(w, minwidth, 1, padding, ' ', 0)`` on ``text``.

    Tab-terminated cells are padded to their column's width (widest cell + padding, at least
    minwidth); the text after a line's last tab is written as is.
    """
    lines = text.split("\n")
    cells = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for row in cells:
        for column, cell in enumerate(row[:-1]):
            widths[column] = max(widths.get(column, minwidth), len(cell) + padding)
    out = []
    for row in cells:
        padded = [cell.ljust(widths[column]) for column, cell in enumerate(row[:-1])]
        out.append("".join(padded) + row[-1])
    return "\n".join(out)


def parse_ls_format(fmt: str | None) -> tuple[str, bool]:
    """docker-machine's ``parseFormat``: (template, is-table)."""
    final = fmt or LS_DEFAULT_FORMAT
    table = final.startswith("table")
    if table:
        final = final[len("table") :]
    final = final.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    return final + "\n", table


def format_ls(items: Sequence[LsItem], fmt: str | None = None, quiet: bool = False) -> str:
    """The text ``docker-machine ls`` prints."""
    if quiet:
        return "".join(f"{item.Name}\n" for item in items)
    template, table = parse_ls_format(fmt)
    body = "".join(render(template, item.fields(), "commands.HostListItem") for item in items)
    if not table:
        return body
    return tabwrite(render(template, LS_HEADERS) + body)


# -- env / config / inspect ----------------------------------------------------------------------
_SET = {
    "fish": ("set -gx ", '";\n', ' "'),
    "powershell": ("$Env:", '"\n', ' = "'),
    "cmd": ("SET ", "\n", "="),
    "tcsh": ("setenv ", '";\n', ' "'),
    "emacs": ('(setenv "', '")\n', '" "'),
}
_UNSET = {
    "fish": ("set -e ", ";\n", ""),
    "powershell": ("Remove-Item Env:\\\\", "\n", ""),
    "cmd": ("SET ", "\n", "="),
    "emacs": ('(setenv "', ")\n", '" nil'),
    "tcsh": ("unsetenv ", ";\n", ""),
}
ENV_VARS = ("DOCKER_TLS_VERIFY", "DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_MACHINE_NAME")


def usage_hint(shell: str, command_line: Sequence[str]) -> str:
    """The two comment lines ``env`` ends with."""
    args = list(command_line)
    if args and (" " in args[0] or "\\" in args[0]):
        args[0] = f'"{args[0]}"'
    line = " ".join(args)
    comment = "#"
    if shell == "fish":
        cmd = f"eval ({line})"
    elif shell == "powershell":
        cmd = f"& {line} | Invoke-Expression"
    elif shell == "cmd":
        cmd, comment = f"\t@FOR /f \"tokens=*\" %i IN ('{line}') DO @%i", "REM"
    elif shell == "emacs":
        cmd = f'(with-temp-buffer (shell-command "{line}" (current-buffer)) (eval-buffer))'
        comment = ";;"
    elif shell == "tcsh":
        cmd, comment = f"eval `{line}`", ":"
    else:
        cmd = f"eval $({line})"
    return f"{comment} Run this command to configure your shell: \n{comment} {cmd}\n"


def format_env(
    shell: str,
    command_line: Sequence[str],
    *,
    name: str = "",
    url: str = "",
    cert_path: str = "",
    unset: bool = False,
) -> str:
    """The text ``docker-machine env [--shell S] [-u] NAME`` prints."""
    if unset:
        prefix, suffix, delimiter = _UNSET.get(shell, ("unset ", "\n", ""))
        values = [""] * len(ENV_VARS)
    else:
        prefix, suffix, delimiter = _SET.get(shell, ("export ", '"\n', '="'))
        values = ["1", url, cert_path, name]
    lines = [
        f"{prefix}{var}{delimiter}{value}{suffix}"
        for var, value in zip(ENV_VARS, values, strict=True)
    ]
    return "".join(lines) + usage_hint(shell, command_line)


def go_quote(text: str) -> str:
    """Go's ``%q`` for ordinary strings."""
    return json.dumps(text, ensure_ascii=False)


def format_config(machine_dir: str, url: str) -> str:
    """The text ``docker-machine config NAME`` prints."""
    return (
        f"--tlsverify\n--tlscacert={go_quote(machine_dir + '/ca.pem')}\n"
        f"--tlscert={go_quote(machine_dir + '/cert.pem')}\n"
        f"--tlskey={go_quote(machine_dir + '/key.pem')}\n-H={url}\n"
    )


def format_inspect(config: Mapping[str, Any], fmt: str | None = None) -> str:
    """The text ``docker-machine inspect [-f FORMAT] NAME`` prints."""
    if fmt:
        return render(fmt, config) + "\n"
    return json.dumps(config, indent=4) + "\n"


def rm_preamble(names: Sequence[str]) -> str:
    """What ``rm`` says before asking (and with -y/-f as well)."""
    return (
        f"About to remove {', '.join(names)}\n"
        "WARNING: This action will delete both local reference and remote instance.\n"
    )


RM_PROMPT = "Are you sure? (y/n): "
