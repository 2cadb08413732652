"""Renders the Helm chart's templates without Helm: a small Go-template interpreter for the
constructs deploy/helm/llmgate uses (`define`/`include`, `if`/`else`, `with`, `range $k, $v :=`,
pipelines, `{{-`/`-}}` trimming) and the Sprig/Helm functions it calls (`toYaml`, `nindent`,
`indent`, `printf`, `print`, `trunc`, `trimSuffix`, `default`, `quote`, `contains`, `not`,
`dict`, `sha256sum`). Enough to render the chart as `helm template` would, for a schema check
of the manifests where Helm is not installed; a construct it does not know is an error, never
silently skipped (so a template growing past it fails the test instead of passing it)."""
import hashlib
import re
from pathlib import Path

import yaml

ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)
TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(:=)|([|(),])|(-?\d+(?:\.\d+)?)|(\$?[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*|\$(?:\.[A-Za-z_]\w*)*|\.(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?))')


class TemplateError(Exception):
    pass


def _lex(src):
    out, pos = [], 0
    src = src.strip()
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"cannot read {src[pos:]!r}")
        pos = m.end()
        s, assign, punct, num, name = m.groups()
        if s is not None:
            out.append(("str", bytes(s[1:-1], "utf-8").decode("unicode_escape")))
        elif assign:
            out.append(("op", ":="))
        elif punct:
            out.append(("op", punct))
        elif num is not None:
            out.append(("num", float(num) if "." in num else int(num)))
        else:
            out.append(("name", name))
    return out


def _parse_pipeline(tokens):
    """A pipeline: commands split by `|`; each command a list of operands."""
    cmds, cur, i = [], [], 0
    while i < len(tokens):
        kind, v = tokens[i]
        if (kind, v) == ("op", "|"):
            cmds.append(cur)
            cur = []
        elif (kind, v) == ("op", "("):
            depth, j = 1, i + 1
            while depth:
                if j >= len(tokens):
                    raise TemplateError("unbalanced parenthesis")
                depth += {("op", "("): 1, ("op", ")"): -1}.get(tokens[j], 0)
                j += 1
            cur.append(("sub", _parse_pipeline(tokens[i + 1:j - 1])))
            i = j - 1
        elif kind == "op":
            raise TemplateError(f"unexpected {v!r}")
        else:
            cur.append((kind, v))
        i += 1
    cmds.append(cur)
    if any(not c for c in cmds):
        raise TemplateError("empty command in a pipeline")
    return cmds


def _parse(text):
    """The template as a tree: ("text", s) | ("out", pipe) | ("if"/"with", pipe, body, else) |
    ("range", names, pipe, body) | ("define", name, body)."""
    pieces, pos, pending_trim = [], 0, False
    for m in ACTION.finditer(text):
        chunk = text[pos:m.start()]
        if pending_trim:
            chunk = chunk.lstrip()
        if m.group(1):
            chunk = chunk.rstrip()
        pieces.append(("text", chunk))
        pieces.append(("action", m.group(2)))
        pending_trim = bool(m.group(3))
        pos = m.end()
    tail = text[pos:]
    pieces.append(("text", tail.lstrip() if pending_trim else tail))

    root = []
    stack = [(None, root)]
    for kind, v in pieces:
        body = stack[-1][1]
        if kind == "text":
            if v:
                body.append(("text", v))
            continue
        if v.startswith("/*"):
            continue
        word = v.split(None, 1)
        head, rest = word[0], (word[1] if len(word) > 1 else "")
        if head in ("if", "with"):
            node = [head, _parse_pipeline(_lex(rest)), [], []]
            body.append(node)
            stack.append((node, node[2]))
        elif head == "range":
            m = re.match(r"(\$\w+)\s*,\s*(\$\w+)\s*:=\s*(.*)", rest, re.S)
            if not m:
                raise TemplateError(f"range form not supported: {rest!r}")
            node = ["range", (m.group(1), m.group(2)), _parse_pipeline(_lex(m.group(3))), []]
            body.append(node)
            stack.append((node, node[3]))
        elif head == "define":
            node = ["define", _lex(rest)[0][1], []]
            body.append(node)
            stack.append((node, node[2]))
        elif head == "else":
            node = stack[-1][0]
            if node is None or node[0] not in ("if", "with") or rest:
                raise TemplateError(f"else not supported here: {v!r}")
            stack[-1] = (node, node[3])
        elif head == "end":
            if len(stack) == 1:
                raise TemplateError("end without a block")
            stack.pop()
        else:
            body.append(("out", _parse_pipeline(_lex(v))))
    if len(stack) != 1:
        raise TemplateError("a block is not closed")
    return root


def _empty(v):
    return v is None or v is False or v == 0 or (hasattr(v, "__len__") and len(v) == 0)


def _field(base, path):
    for part in [p for p in path.split(".") if p]:
        if base is None:
            return None
        if not isinstance(base, dict):
            raise TemplateError(f"field {part} of a non-map")
        base = base.get(part)
    return base


def _text(v):
    if v is None:
        return ""
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _to_yaml(v):
    return yaml.safe_dump(v, sort_keys=True, default_flow_style=False).rstrip("\n").removesuffix("\n...")


def _indent(n, s):
    pad = " " * n
    return "\n".join(pad + line for line in _text(s).split("\n"))


class Chart:
    def __init__(self, path: Path, release="t"):
        self.path = path
        meta = yaml.safe_load((path / "Chart.yaml").read_text())
        self.name = meta["name"]
        self.defaults = yaml.safe_load((path / "values.yaml").read_text()) or {}
        self.release = release
        self.templates = {}
        for p in sorted((path / "templates").iterdir()):
            tree = _parse(p.read_text())
            self.templates[f"{self.name}/templates/{p.name}"] = tree
            self._defines(tree)
        self.meta = meta

    def _defines(self, tree):
        for node in tree:
            if isinstance(node, list) and node[0] == "define":
                self.templates[node[1]] = node[2]

    def render(self, overrides=None):
        """Each manifest file's text (NOTES.txt and helpers left out), as `helm template`."""
        values = _merge(self.defaults, overrides or {})
        top = {
            "Values": values,
            "Release": {"Name": self.release, "Namespace": "default", "Service": "Helm"},
            "Chart": {"Name": self.meta["name"], "Version": self.meta["version"],
                      "AppVersion": self.meta.get("appVersion")},
            "Template": {"BasePath": f"{self.name}/templates"},
        }
        out = {}
        for name in self.templates:
            file = name.rsplit("/", 1)[-1]
            if "/templates/" in name and file.endswith(".yaml") and not file.startswith("_"):
                out[file] = self.include(name, top, top)
        return out

    def include(self, name, dot, top):
        if name not in self.templates:
            raise TemplateError(f"no template {name!r}")
        return self._run(self.templates[name], dot, {"$": top})

    def _run(self, tree, dot, vars):
        out = []
        for node in tree:
            if node[0] == "text":
                out.append(node[1])
            elif node[0] == "out":
                out.append(_text(self._pipe(node[1], dot, vars)))
            elif node[0] == "if":
                branch = node[2] if not _empty(self._pipe(node[1], dot, vars)) else node[3]
                out.append(self._run(branch, dot, vars))
            elif node[0] == "with":
                v = self._pipe(node[1], dot, vars)
                out.append(self._run(node[2], v, vars) if not _empty(v) else self._run(node[3], dot, vars))
            elif node[0] == "range":
                seq = self._pipe(node[2], dot, vars)
                items = sorted(seq.items()) if isinstance(seq, dict) else list(enumerate(seq or []))
                for k, v in items:
                    out.append(self._run(node[3], v, {**vars, node[1][0]: k, node[1][1]: v}))
            elif node[0] == "define":
                pass
            else:
                raise TemplateError(f"node {node[0]}")
        return "".join(out)

    def _operand(self, op, dot, vars):
        kind, v = op
        if kind in ("str", "num"):
            return v
        if kind == "sub":
            return self._pipe(v, dot, vars)
        if v.startswith("."):
            return _field(dot, v)
        if v.startswith("$"):
            name, _, path = v.partition(".")
            if name not in vars:
                raise TemplateError(f"undefined variable {name}")
            return _field(vars[name], path)
        raise TemplateError(f"{v} is not a value")

    def _pipe(self, cmds, dot, vars):
        prev, has_prev = None, False
        for cmd in cmds:
            kind, v = cmd[0]
            if kind == "name" and not v.startswith((".", "$")):
                args = [self._operand(a, dot, vars) for a in cmd[1:]]
                if has_prev:
                    args.append(prev)
                prev = self._call(v, args, vars)
            else:
                if len(cmd) > 1 or has_prev:
                    raise TemplateError(f"{v} cannot take arguments")
                prev = self._operand(cmd[0], dot, vars)
            has_prev = True
        return prev

    def _call(self, fn, a, vars):
        if fn == "include":
            return self.include(a[0], a[1], vars["$"])
        funcs = {
            "toYaml": lambda v: _to_yaml(v),
            "nindent": lambda n, s: "\n" + _indent(n, s),
            "indent": lambda n, s: _indent(n, s),
            "printf": lambda f, *xs: re.sub(r"%[sdv]", "{}", f).format(*map(_text, xs)),
            "print": lambda *xs: "".join(map(_text, xs)),
            "trunc": lambda n, s: _text(s)[:n],
            "trimSuffix": lambda suf, s: _text(s).removesuffix(suf),
            "default": lambda d, v=None: d if _empty(v) else v,
            "quote": lambda v: '"' + _text(v).replace("\\", "\\\\").replace('"', '\\"') + '"',
            "contains": lambda sub, s: _text(sub) in _text(s),
            "not": lambda v: _empty(v),
            "dict": lambda *kv: {kv[i]: kv[i + 1] for i in range(0, len(kv), 2)},
            "sha256sum": lambda s: hashlib.sha256(_text(s).encode()).hexdigest(),
        }
        if fn not in funcs:
            raise TemplateError(f"function {fn!r} is not supported")
        return funcs[fn](*a)


def _merge(base, over):
    """Helm's values merge: maps merged key by key, anything else replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def manifests(chart_dir: Path, overrides=None):
    """The rendered chart's objects (empty documents dropped)."""
    docs = []
    for text in Chart(chart_dir).render(overrides).values():
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs
