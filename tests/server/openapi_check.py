#!/usr/bin/env python3
"""docs/api/openapi.yaml must describe exactly the routes tlaunchd serves
(src/server/routes.cc, fleet_routes.cc), each with the right method, and every problem reason
the server can answer must be documented in docs/errors.md."""
import re
import sys

import yaml

root = sys.argv[1]
spec = yaml.safe_load(open(f"{root}/docs/api/openapi.yaml"))
assert str(spec["openapi"]).startswith("3."), "not an OpenAPI 3 document"
routes_src = open(f"{root}/src/server/routes.cc").read()
routes = set(re.findall(r'r\.add\("([A-Z]+)", "([^"]+)"', routes_src))
fleet_src = open(f"{root}/src/server/fleet_routes.cc").read()
routes |= set(re.findall(r'\badd\("([A-Z]+)", "([^"]+)"', fleet_src))
assert routes, "no routes found in routes.cc"
documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if m != "parameters"}
routes_oa = {(m, p.replace("{id}", "{enrollmentId}") if p.startswith("/enroll") else p) for m, p in routes}
missing = routes_oa - documented
extra = documented - routes_oa
assert not missing, f"routes not in openapi.yaml: {sorted(missing)}"
assert not extra, f"openapi.yaml paths tlaunchd does not serve: {sorted(extra)}"

errors_md = open(f"{root}/docs/errors.md").read()
problem_src = open(f"{root}/src/server/problem.cc").read()
reasons = set(re.findall(r'\{"([a-z0-9-]+)", \{\d{3},', problem_src))
reasons |= set(re.findall(r'"([a-z0-9-]+)"\s*;', open(f"{root}/src/verify/reasons.h").read()))
reasons.discard("verifier-internal") if "verifier-internal" in errors_md else None
undocumented = sorted(r for r in reasons if f"`{r}`" not in errors_md)
assert not undocumented, f"reasons missing from docs/errors.md: {undocumented}"
print(f"openapi: {len(routes)} routes documented; errors.md: {len(reasons)} reasons documented")
