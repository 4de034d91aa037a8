"""Which builtins a gateway policy may call, and the check that enforces it at load.

Refused: builtins that read the clock, the network, randomness or the process, because
a stored decision must replay exactly (time and history come in ``input``).

Supported: every builtin regorus 0.13 (as packaged by gordon-to-regorus) evaluates,
found by calling each name in a tiny policy and by ``opa.runtime().builtins``; a unit
test re-probes the list so an upgrade that drops one is noticed. regorus only fails on
an unknown function when a rule calling it is evaluated, and returns undefined from
``http.send``; checking at load turns both into an error a person sees before
activation, not a deny at 3 a.m.
"""

from __future__ import annotations

from gateway.policy._ast import Call, Module
from gateway.policy.errors import PolicyLoadError

_CLOCK = "reads the clock; pass time in input (input.now) instead"
_NETWORK = "reaches the network; put what the policy needs in input or data instead"
_RANDOM = "is random, so a replayed decision could differ"

REFUSED: dict[str, str] = {
    "time.now_ns": _CLOCK,
    "time.now": _CLOCK,
    "io.jwt.decode_verify": _CLOCK,
    "http.send": _NETWORK,
    "net.lookup_ip_addr": _NETWORK,
    "rand.intn": _RANDOM,
    "uuid.rfc4122": _RANDOM,
    # Deterministic, but refused by the gateway's policy contract: no use in engagement
    # rules, and the OPA engine would have to match whatever regorus parses.
    "uuid.parse": "is not allowed in gateway policies",
    "opa.runtime": "reads the process environment and engine version",
}

# Verified by probing regorus; grouped by namespace ("" holds the top-level names).
_SUPPORTED_BY_NAMESPACE: dict[str, str] = {
    "": (
        "abs ceil concat contains count endswith floor format_int indexof indexof_n "
        "intersection is_array is_boolean is_null is_number is_object is_set is_string lower "
        "max min print product replace round sort split sprintf startswith substring sum "
        "to_number trace trim trim_left trim_prefix trim_right trim_space trim_suffix "
        "type_name union upper walk"
    ),
    "array": "concat reverse slice",
    "base64": "decode encode is_valid",
    "base64url": "decode encode encode_no_pad",
    "bits": "and lsh negate or rsh xor",
    "glob": "match quote_meta",
    "graph": "reachable reachable_paths",
    "hex": "decode encode",
    "json": (
        "filter is_valid marshal marshal_with_options match_schema patch remove unmarshal "
        "verify_schema"
    ),
    "net": "cidr_contains cidr_expand cidr_is_valid",
    "numbers": "range range_step",
    "object": "filter get keys remove subset union union_n",
    "regex": "find_all_string_submatch_n find_n is_valid match replace split template_match",
    "semver": "compare is_valid",
    "strings": "any_prefix_match any_suffix_match count replace_n reverse",
    "time": "add_date clock date diff format parse_duration_ns parse_ns parse_rfc3339_ns weekday",
    "units": "parse parse_bytes",
    "urlquery": "decode decode_object encode encode_object",
    "yaml": "is_valid marshal unmarshal",
}
SUPPORTED: frozenset[str] = frozenset(
    f"{namespace}.{name}" if namespace else name
    for namespace, names in _SUPPORTED_BY_NAMESPACE.items()
    for name in names.split()
)

# Builtins whose output goes to the engine's print buffer.
PRINTING: frozenset[str] = frozenset({"print"})


def check_calls(modules: list[Module]) -> None:
    """Raise :class:`PolicyLoadError` at the first call that is refused or unknown.

    A call is fine when it reaches a rule or function of the bundle (through ``data.``,
    an import, or a name defined in the caller's package) or a supported builtin.
    Refused names are refused even if the bundle defines a function of that name, so
    that a policy cannot look deterministic while calling the real builtin.
    """
    defined = {(module.package, rule.name) for module in modules for rule in module.rules}
    for module in sorted(modules, key=lambda m: m.file):
        for call in sorted(module.calls, key=lambda c: (c.line, c.column)):
            problem = _problem(call, module, defined)
            if problem is not None:
                raise PolicyLoadError(problem, file=module.file, line=call.line, column=call.column)


def called_names(modules: list[Module]) -> set[str]:
    """Every dotted name the modules call."""
    return {call.name for module in modules for call in module.calls if call.name}


def _problem(call: Call, module: Module, defined: set[tuple[str, str]]) -> str | None:
    name = call.name
    if name is None:
        return (
            "calls a function through a computed reference; the gateway can only check "
            "calls by name (write f(x) or data.pkg.f(x))"
        )
    if name in REFUSED:
        return f"calls {name}, which {REFUSED[name]}"
    head = name.split(".", 1)[0]
    if head == "data" or module.imports.get(head, "").startswith("data."):
        return None
    if (module.package, name) in defined or name in SUPPORTED:
        return None
    return (
        f"calls {name}, which is neither a rule or function of package {module.package} "
        "nor a builtin the embedded engine (regorus 0.13) supports"
    )
