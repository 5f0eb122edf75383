#!/usr/bin/env python3
"""docs/api/openapi.yaml must describe exactly the routes tlaunchd serves
(src/server/routes.cc, fleet_routes.cc, key_routes.cc), each with the right method, every key
vault operation must say how it is authenticated, and every problem reason the server can
answer must be documented in docs/errors.md.

Usage: openapi_check.py ROOT [--src SRC]
  ROOT  the repository whose docs are checked
  SRC   where the server sources are read from (default ROOT), e.g. a worktree whose routes
        have not been merged yet
"""
import os
import re
import sys

import yaml


def args():
    argv = sys.argv[1:]
    if not argv or argv[0].startswith("-"):
        sys.exit("usage: openapi_check.py ROOT [--src SRC]")
    root, src = argv[0], argv[0]
    rest = argv[1:]
    while rest:
        if rest[0] == "--src" and len(rest) > 1:
            src, rest = rest[1], rest[2:]
        else:
            sys.exit(f"openapi_check.py: unexpected argument {rest[0]!r}")
    return root, src


def block_after(text, open_brace):
    """The text between the brace at open_brace and its matching close."""
    depth = 0
    for i in range(open_brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[open_brace + 1:i]
    raise AssertionError("unbalanced braces after offset %d" % open_brace)


def registered_routes(text, name):
    """(METHOD, path) of every add("METHOD", …) call: the path is a string literal, or the
    variable of an enclosing `for (const char* VAR : {"…", "…"})` loop (one route per entry).
    A call whose path is anything else fails the check rather than being skipped."""
    routes = set()
    resolved = set()  # offsets of add( calls whose path came from a loop
    for loop in re.finditer(r'for \(const char\* (\w+) : \{\s*("[^"]*"(?:\s*,\s*"[^"]*")*)\s*\}\)\s*\{', text):
        var, paths = loop.group(1), re.findall(r'"([^"]+)"', loop.group(2))
        assert paths, f"{name}: a route loop over no paths at offset {loop.start()}"
        body_start = loop.end() - 1
        body = block_after(text, body_start)
        calls = list(re.finditer(r'\badd\("([A-Z]+)",\s*' + re.escape(var) + r'\b', body))
        assert calls, f"{name}: route loop over {paths} registers nothing with '{var}'"
        for call in calls:
            resolved.add(body_start + 1 + call.start())
            routes |= {(call.group(1), p) for p in paths}
    for call in re.finditer(r'\badd\("([A-Z]+)",\s*("([^"]+)"|[^,]+),', text):
        if call.group(3) is not None:
            routes.add((call.group(1), call.group(3)))
        elif call.start() not in resolved:
            raise AssertionError(f"{name}: cannot tell the path of {call.group(0)!r} "
                                 "(use a string literal or a for (const char* path : {…}) loop)")
    return routes


root, src = args()
spec = yaml.safe_load(open(f"{root}/docs/api/openapi.yaml"))
assert str(spec["openapi"]).startswith("3."), "not an OpenAPI 3 document"
routes_src = open(f"{src}/src/server/routes.cc").read()
routes = set(re.findall(r'r\.add\("([A-Z]+)", "([^"]+)"', routes_src))
assert routes, "no routes found in routes.cc"
fleet = registered_routes(open(f"{src}/src/server/fleet_routes.cc").read(), "fleet_routes.cc")
assert fleet, "no routes found in fleet_routes.cc"
key_routes_path = f"{src}/src/server/key_routes.cc"
if os.path.exists(key_routes_path):
    keys = registered_routes(open(key_routes_path).read(), "key_routes.cc")
    assert keys, "no routes found in key_routes.cc"
else:
    # Not merged yet: the key vault paths the document lists show up as "not served" below.
    print(f"openapi: {key_routes_path} does not exist", file=sys.stderr)
    keys = set()
routes |= fleet | keys

documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if m != "parameters"}
routes_oa = {(m, p.replace("{id}", "{enrollmentId}") if p.startswith("/enroll") else p) for m, p in routes}
missing = routes_oa - documented
extra = documented - routes_oa
assert not missing, f"routes not in openapi.yaml: {sorted(missing)}"
assert not extra, f"openapi.yaml paths tlaunchd does not serve: {sorted(extra)}"

# Every key vault route authenticates its caller: the document must say how, and list the 401.
schemes = set(spec.get("components", {}).get("securitySchemes", {}))
for path, ops in spec["paths"].items():
    if not path.startswith(("/keys", "/deletedkeys", "/vault/")):
        continue
    for method, op in ops.items():
        if method == "parameters":
            continue
        where = f"{method.upper()} {path}"
        security = op.get("security")
        assert security, f"{where}: no security requirement"
        for alternative in security:
            unknown = set(alternative) - schemes
            assert not unknown, f"{where}: security names undefined schemes {sorted(unknown)}"
        assert "401" in op.get("responses", {}), f"{where}: the 401 problem is not listed"

errors_md = open(f"{root}/docs/errors.md").read()
problem_src = open(f"{src}/src/server/problem.cc").read()
reasons = set(re.findall(r'\{"([a-z0-9-]+)", \{\d{3},', problem_src))
reasons |= set(re.findall(r'"([a-z0-9-]+)"\s*;', open(f"{src}/src/verify/reasons.h").read()))
reasons.discard("verifier-internal") if "verifier-internal" in errors_md else None
undocumented = sorted(r for r in reasons if f"`{r}`" not in errors_md)
assert not undocumented, f"reasons missing from docs/errors.md: {undocumented}"
print(f"openapi: {len(routes)} routes documented ({len(keys)} key vault); "
      f"errors.md: {len(reasons)} reasons documented")
