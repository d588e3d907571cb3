#!/usr/bin/env python3
# Writes scenarios/schema.json (JSON Schema 2020-12) for klefr-sim scenarios
# (docs/scenarios.md). One row per event kind / expectation kind / setting, like
# the tables in sim/scenario_*.c: add a kind there and here.
# usage: scripts/gen_scenario_schema.py scenarios/schema.json
import json, os, re, sys
time = {"$ref": "#/$defs/time"}
D = {}
D["time"] = {"description": "seconds, or a string like \"90s\", \"250ms\", \"15min\", \"1h30m\", \"2d\"",
  "oneOf": [{"type": "number", "minimum": 0},
            {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|min|h|d)?([0-9]+(\\.[0-9]+)?(ms|s|m|min|h|d))*$"}]}
D["time_or_end"] = {"oneOf": [time, {"const": "end"}]}
D["window"] = {"type": "array", "items": {"$ref": "#/$defs/time_or_end"}, "minItems": 2, "maxItems": 2,
  "description": "[from, to]"}
D["pf"] = {"description": "power factor: a number (-1..1, negative = export) or \"0.8C\" / \"0.5L\"",
  "oneOf": [{"type": "number", "minimum": -1, "maximum": 1}, {"type": "string", "pattern": "^-?[0-9.]+[LlCc]?$"}]}
D["harmonic"] = {"type": "object", "additionalProperties": False, "required": ["order"],
  "properties": {"order": {"type": "integer", "minimum": 2, "maximum": 40},
                 "v_pct": {"type": "number", "minimum": 0, "maximum": 100},
                 "i_pct": {"type": "number", "minimum": 0, "maximum": 100},
                 "v_phase": {"type": "number"}, "i_phase": {"type": "number"}}}
D["per_tariff"] = {"oneOf": [{"type": "number", "minimum": 0},
   {"type": "object", "additionalProperties": False,
    "properties": {"t1": {"type": "number", "minimum": 0}, "t2": {"type": "number", "minimum": 0}}}],
   "description": "a number (tariff 1) or {\"t1\": x, \"t2\": y}"}
D["settings"] = {"type": "object", "additionalProperties": False, "description": "meter settings (docs/scenarios.md)",
  "properties": {
    "modbus_id": {"type": "integer", "minimum": 1, "maximum": 247, "description": "Modbus ID (6924), default 1"},
    "mbus_id": {"type": "integer", "minimum": 0, "maximum": 250, "description": "M-bus primary address (6923), default 0"},
    "mbus_secondary": {"type": "string", "pattern": "^[0-9]{8}$", "description": "M-bus secondary address, 8 digits"},
    "baud": {"enum": [300, 600, 1200, 2400, 4800, 9600], "description": "bus baud rate (6924: 1200..9600)"},
    "parity": {"enum": ["even", "none", "odd"], "description": "Modbus parity (6924)"},
    "s0_rate": {"enum": [10000, 2000, 1000, 100, 10, 1, 0.1, 0.01], "description": "S0 output, imp/kWh"},
    "calc_code": {"enum": [1, 4, 5, 6, 9, 10], "description": "calculation code of total active energy (manual 7.11)"},
    "lcd_cycle_s": {"type": "integer", "minimum": 1, "maximum": 30},
    "backlight": {"enum": ["button", "on", "off"]},
    "password": {"type": "integer", "minimum": 0, "maximum": 9999},
    "obis": {"type": "boolean"},
    "tariff": {"enum": [1, 2], "description": "saved tariff"},
    "scroll_mask": {"type": "integer", "minimum": 0, "maximum": 4294967295}}}
D["registers"] = {"type": "object", "additionalProperties": False,
  "properties": {k: {"$ref": "#/$defs/per_tariff"} for k in
     ["active_fwd_kwh", "active_rev_kwh", "reactive_fwd_kvarh", "reactive_rev_kvarh"]}}
D["registers"]["properties"]["day_fwd_kwh"] = {"type": "number", "minimum": 0}
D["registers"]["properties"]["power_downs"] = {"type": "integer", "minimum": 0, "maximum": 4294967295}
D["meter"] = {"type": "object", "additionalProperties": False,
  "properties": {
    "id": {"type": "string"},
    "model": {"enum": [6921, 6922, 6923, 6924], "description": "default 6924"},
    "serial": {"oneOf": [{"type": "string", "pattern": "^[0-9]{1,8}$"}, {"type": "integer", "minimum": 0, "maximum": 99999999}]},
    "seed": {"type": "integer", "minimum": 0},
    "load": {"type": "string", "description": "the load before the first segment (--load grammar)"},
    "settings": {"$ref": "#/$defs/settings"},
    "registers": {"$ref": "#/$defs/registers"},
    "state_dir": {"type": "string", "description": "start from DIR/eeprom.bin (a copy)"}},
  "not": {"required": ["state_dir", "settings"]}}
num = {"type": "number"}
ramp = {"type": "object", "additionalProperties": False, "minProperties": 1,
  "description": "quantities that move linearly to these values over the segment",
  "properties": {"v": num, "i": num, "p": num, "f": num, "phi": num, "pf": {"type": "number", "minimum": -1, "maximum": 1}}}
D["segment"] = {"type": "object", "additionalProperties": False,
  "properties": {
    "duration": time, "load": {"type": "string", "description": "a --load spec"},
    "v": num, "i": num, "p": num, "f": num, "phi": num, "pf": {"$ref": "#/$defs/pf"},
    "direction": {"enum": ["import", "export"]},
    "harmonics": {"type": "array", "items": {"$ref": "#/$defs/harmonic"}, "maxItems": 8},
    "ramp": ramp,
    "v_pct": {"type": "number", "minimum": 0, "maximum": 200, "description": "sag/swell: voltage in % of the running voltage, this segment only"},
    "power": {"type": "boolean", "description": "false: supply cut for this segment"},
    "tariff_input": {"type": "boolean", "description": "6922 tariff input: true = T2"},
    "tariff": {"enum": [1, 2], "description": "active tariff by command (not saved)"},
    "curve": {"type": "string", "description": "CSV daily curve: time, p or i, [pf], [v]"},
    "interpolate": {"enum": ["linear", "step"]},
    "replay": {"type": "string", "description": "CSV or WAV recording"},
    "rate": {"type": "number", "exclusiveMinimum": 0}, "v_scale": {"type": "number", "exclusiveMinimum": 0},
    "i_scale": {"type": "number", "exclusiveMinimum": 0},
    "profile": {"type": "string", "description": "a load profile file whose segments play here"},
    "label": {"type": "string"}, "comment": {"type": "string"}},
  "anyOf": [{"required": ["duration"]}, {"required": ["curve"]}, {"required": ["replay"]}, {"required": ["profile"]}]}
common_ev = {"at": {"$ref": "#/$defs/time"}, "every": time, "from": time, "to": {"$ref": "#/$defs/time_or_end"},
  "random": {"type": "integer", "minimum": 1, "maximum": 100000}, "between": {"$ref": "#/$defs/window"},
  "label": {"type": "string"}, "comment": {"type": "string"},
  "meter": {"type": "string", "description": "the meter's id; none: every meter (\"meters\")"}}
kinds = {
  "press": ({"button": {"enum": ["left", "right", "both"]}, "hold": time}, ["button"], "press and release a button"),
  "tariff_input": ({"on": {"type": "boolean"}}, ["on"], "the 6922's tariff input: true = T2"),
  "tariff": ({"tariff": {"enum": [1, 2]}, "save": {"type": "boolean"}}, ["tariff"], "active tariff by command"),
  "power_cut": ({"for": {"oneOf": [time, {"type": "array", "items": time, "minItems": 2, "maxItems": 2}]}}, [], "cut the supply"),
  "power_restore": ({}, [], "restore the supply"),
  "set": ({"settings": {"$ref": "#/$defs/settings"}}, ["settings"], "change settings by command"),
  "day_reset": ({}, [], "reset the day counter"),
  "eeprom_write_fail": ({"mode": {"enum": ["once", "worn_out"]}}, [], "EEPROM writes fail (Err 01)"),
  "eeprom_corrupt": ({"copy": {"enum": [0, 1, "both"]}}, [], "damage a stored copy (Err 01 at power-up)"),
  "program_fault": ({}, [], "bad program checksum (Err 02 at power-up)"),
  "caption": ({"text": {"type": "string"}}, ["text"], "a note (tours show it)"),
}
# Serial steps (sim/scenario_serial.c, sim/scenario_decode_*.c): their common keys, then one row each.
step = {"name": {"type": "string", "minLength": 1, "maxLength": 63, "description": "what reply expectations call it"},
  "port": {"enum": ["bus", "ir", "modbus", "mbus", "iec"], "description": "default: the kind's protocol's port"},
  "baud": {"enum": [300, 600, 1200, 2400, 4800, 9600, 19200, 38400], "description": "the master's baud (default: the meter's)"},
  "parity": {"enum": ["none", "even", "odd"], "description": "the master's parity (default: the meter's)"},
  "data_bits": {"enum": [7, 8]}, "timeout": dict(time, description="the master's wait for the first byte")}
src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sim", "scenario_decode_modbus.c")).read()
registers = re.findall(r'[RW]\(0x[0-9A-F]{4}, [12], [A-Z]{3},(?: [0-9]+,)? "([a-z0-9_]+)"', src)
assert len(registers) == 88, "the Modbus map of sim/scenario_decode_modbus.c"
register = {"description": "a register of the manual's A3.2 map by name, or an address like \"0x5000\"",
  "anyOf": [{"enum": registers}, {"type": "string", "pattern": "^(0[xX])?[0-9A-Fa-f]{1,4}$"}]}
byte = {"type": "integer", "minimum": 0, "maximum": 255}
hexbytes = {"type": "string", "pattern": "^[ ,\t]*([0-9A-Fa-f]{2}[ ,\t]*)+$", "description": "bytes in hex: \"01 03 40 00 00 02\""}
mbus_sets = ["primary_address", "secondary_address", "tariff", "calc_code", "s0_rate", "day_reset", "power_downs_reset", "baud", "app_reset"]
session = {"address": {"type": "string", "pattern": "^[0-9]{1,32}$", "description": "device address in the sign-on (the serial number)"},
  "session_baud": {"enum": [300, 600, 1200, 2400, 4800, 9600, 19200], "description": "the baud asked for in the option select (default: the offered)"}}
text_or_num = {"type": ["string", "number"]}
steps = {
  "send": ({"hex": hexbytes, "text": {"type": "string", "minLength": 1}, "crc": {"type": "boolean", "description": "append a Modbus CRC-16"}},
           ["port"], "bytes on a port", {"oneOf": [{"required": ["hex"]}, {"required": ["text"]}]}),
  "modbus_read": ({"register": register, "count": {"type": "integer", "minimum": 1, "maximum": 125},
                   "function": {"enum": [3, 4]}, "address": {"type": "integer", "minimum": 0, "maximum": 247}},
                  ["register"], "Modbus read of holding registers", {}),
  "modbus_write": ({"register": register, "value": text_or_num,
                    "registers": {"type": "array", "minItems": 1, "maxItems": 123, "items": {"type": "integer", "minimum": 0, "maximum": 65535}},
                    "function": {"enum": [6, 16]}, "address": {"type": "integer", "minimum": 0, "maximum": 247}},
                   ["register"], "Modbus write (function 06 or 10)", {"oneOf": [{"required": ["value"]}, {"required": ["registers"]}]}),
  "mbus_req_ud2": ({"address": byte, "fcb": {"type": "boolean"}}, [], "M-bus REQ_UD2: read the RSP_UD", {}),
  "mbus_snd_nke": ({"address": byte}, [], "M-bus SND_NKE: link reset", {}),
  "mbus_select": ({"id": {"type": "string", "pattern": "^[0-9Ff]{8}$"}, "manufacturer": {"type": "string", "pattern": "^[A-Z]{3}$"},
                   "version": byte, "medium": byte}, [], "M-bus selection by secondary address (left out: wildcard)", {}),
  "mbus_write": ({"set": {"enum": mbus_sets}, "value": text_or_num, "address": byte}, ["set"], "an M-bus write of appendix 2", {}),
  "iec_sign_on": (dict(session, password={"type": ["string", "integer"]}), [], "IEC sign-on to programming mode (P0, P1 with a password)", {}),
  "iec_readout": (session, [], "IEC mode C data readout", {}),
  "iec_r1": ({"code": {"type": "string", "minLength": 1}}, ["code"], "IEC R1: read a data set", {}),
  "iec_w1": ({"code": {"type": "string", "minLength": 1}, "value": text_or_num}, ["code", "value"], "IEC W1: write a data set", {}),
  "iec_b0": ({}, [], "IEC B0: end the session", {}),
}
for k, (props, req, desc, extra) in steps.items():
    kinds[k] = (dict(step, **props), ["name"] + req, desc, extra)
alts = []
for k, row in kinds.items():
    props, req, desc = row[:3]
    p = dict(common_ev); p["do"] = {"const": k, "description": desc}; p.update(props)
    alt = {"type": "object", "additionalProperties": False, "properties": p, "required": ["do"] + req,
           "oneOf": [{"required": ["at"]}, {"required": ["every"]}, {"required": ["random", "between"]}]}
    if len(row) > 3 and row[3]:
        alt["allOf"] = [row[3]]
    alts.append(alt)
D["event"] = {"oneOf": alts}
cmp_ = {"eq": {"type": ["number", "string"]}, "tol": {"type": "number", "minimum": 0},
        "tol_pct": {"type": "number", "minimum": 0}, "min": num, "max": num}
common_ex = {"at": {"$ref": "#/$defs/time_or_end"}, "during": {"$ref": "#/$defs/window"}, "within": {"$ref": "#/$defs/window"},
  "name": {"type": "string"}, "label": {"type": "string"}, "comment": {"type": "string"},
  "meter": {"type": "string", "description": "the meter's id; none: every meter (\"meters\")"}}
energies = ["active_fwd_kwh", "active_rev_kwh", "reactive_fwd_kvarh", "reactive_rev_kvarh"]
outs = ["led", "s0_fwd", "s0_rev"]
value_paths = []
for e in ["active_fwd_kwh", "active_rev_kwh", "active_total_kwh", "reactive_fwd_kvarh", "reactive_rev_kvarh", "reactive_total_kvarh"]:
    value_paths += ["energy." + e, "energy." + e + ".t1", "energy." + e + ".t2"]
value_paths += ["energy.day_fwd_kwh"] + ["measure." + m for m in ["v", "i", "f", "p_w", "q_var", "s_va", "pf", "quadrant"]]
value_paths += ["power_downs", "error", "tariff", "powered", "backlight"]
value_paths += ["settings." + s for s in D["settings"]["properties"]]
exk = {
  "value": ({"value": {"enum": value_paths}} | cmp_, "a register, measurement, setting or state"),
  "lcd": ({"lcd": {"enum": ["text", "icons", "value", "name"]}, "eq": {"type": "string"}, "match": {"type": "string"}}, "a row of the LCD"),
  "pulses": ({"pulses": {"enum": outs}} | {k: v for k, v in cmp_.items() if k != "eq"} | {"eq": {"type": "integer", "minimum": 0}}, "pulse count"),
  "pulse_width_ms": ({"pulse_width_ms": {"enum": outs}, "eq": num, "tol": cmp_["tol"], "min": num, "max": num}, "width of every pulse"),
  "accuracy": ({"accuracy": {"enum": energies}, "tol_pct": {"type": "number", "minimum": 0}}, "registered energy against the truth"),
  "reply": ({"reply": {"type": "string"}, "hex": {"type": "string", "description": "pattern: \"01 03 2C ?? ..\""},
             "field": {"type": "string", "description": "a decoded value: \"voltage\", \"1.8.0\", \"total_kwh\", \"status\""},
             "timing": {"enum": ["first_byte", "last_byte", "limits", "none"]}, "match": {"type": "string"}} | cmp_,
            "the reply to the serial step of this name"),
}
alts = []
for k, (props, desc) in exk.items():
    p = dict(common_ex); p.update(props); p[k] = dict(p[k], description=desc)
    req = [k] + (["tol_pct"] if k == "accuracy" else [])
    alt = {"type": "object", "additionalProperties": False, "properties": p, "required": req,
           "not": {"anyOf": [{"required": ["at", "during"]}, {"required": ["at", "within"]}, {"required": ["during", "within"]}]}}
    if k == "reply":  # checked when it comes: no windows; one of hex, field, timing
        del p["during"], p["within"]
        alt["oneOf"] = [{"required": ["hex"]}, {"required": ["field"]}, {"required": ["timing"]}]
    alts.append(alt)
D["expectation"] = {"oneOf": alts}
# An installation (docs/fleet.md): lines, the site, meters ("count" makes many).
port = {"type": "string", "pattern": "^(tcp:|rfc2217:|serial:)?.+$",
        "description": "a pty link PATH, serial:DEV, tcp:[HOST:]PORT or rfc2217:[HOST:]PORT (docs/serial.md)"}
D["line"] = {"type": "object", "additionalProperties": False, "required": ["bus"],
  "properties": {
    "id": {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,30}$",
           "description": "default mbus / modbus; the pty link is <state-dir>/<id>"},
    "bus": {"enum": ["mbus", "rs485"]},
    "baud": {"enum": [300, 600, 1200, 2400, 4800, 9600], "description": "default 9600 (RS-485: 1200..9600)"},
    "parity": {"enum": ["even", "none", "odd"], "description": "RS-485 only; M-bus is always even"},
    "port": port,
    "gateway": {"type": "string", "pattern": "^tcp:.+$", "description": "RS-485: a Modbus TCP gateway"},
    "gateway_timeout": {"$ref": "#/$defs/time"},
    "comment": {"type": "string"}}}
D["fleet_meter"] = {"type": "object", "additionalProperties": False,
  "properties": {
    "id": {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,22}$",
           "description": "with count: ID-01, ID-02, ..."},
    "count": {"type": "integer", "minimum": 1, "maximum": 100000},
    "model": {"enum": [6921, 6922, 6923, 6924], "description": "default: the one its line's bus needs"},
    "serial": D["meter"]["properties"]["serial"],
    "seed": {"type": "integer", "minimum": 0},
    "line": {"oneOf": [{"type": "string"}, {"type": "null"}], "description": "a line id; null: on no line"},
    "settings": {"$ref": "#/$defs/settings"},
    "registers": {"$ref": "#/$defs/registers"},
    "load": {"type": "string", "description": "its own load (--load grammar)"},
    "profile": {"type": "string", "description": "its own load profile file"},
    "share": {"type": "number", "minimum": 0, "maximum": 1000, "description": "of the site's current (default 1)"},
    "addresses": {"enum": ["same", "sequential"], "description": "with count: the bus address counts up"},
    "ir_port": port,
    "comment": {"type": "string"}},
  "not": {"anyOf": [{"required": ["load", "profile"]}, {"required": ["load", "share"]},
                    {"required": ["profile", "share"]}]}}
D["site"] = {"type": "object", "additionalProperties": False,
  "properties": {"load": {"type": "string"}, "profile": {"type": "string"},
                 "spread": {"type": "number", "minimum": 0, "maximum": 1}, "comment": {"type": "string"}}}
# A scenario's installation: no host ports, meters draw shares of the timeline.
D["scenario_line"] = dict(D["line"], properties={k: v for k, v in D["line"]["properties"].items()
                                                 if k not in ("port", "gateway", "gateway_timeout")})
D["scenario_meter"] = dict(D["fleet_meter"], properties={k: v for k, v in D["fleet_meter"]["properties"].items()
                                                         if k not in ("load", "profile", "ir_port")})
del D["scenario_meter"]["not"]
# Tours (docs/tours.md): steps laid one after the other; a step's events have
# no time of their own, its expectations none either (checked at its end).
step_ev = []
for k, row in kinds.items():
    props, req, desc = row[:3]
    if k == "caption":
        continue
    p = {"do": {"const": k, "description": desc}, "label": {"type": "string"}, "comment": {"type": "string"}}
    p.update(props)
    alt = {"type": "object", "additionalProperties": False, "properties": p, "required": ["do"] + req}
    if len(row) > 3 and row[3]:  # a serial step's "one of these keys"
        alt["allOf"] = [row[3]]
    step_ev.append(alt)
D["step_expectation"] = {"oneOf": [
    {"type": "object", "additionalProperties": False,
     "properties": {k: v for k, v in a["properties"].items() if k not in ("at", "during", "within")},
     "required": a["required"]}
    for a in alts if "pulses" not in a["properties"] and "pulse_width_ms" not in a["properties"]]}
D["press"] = {"type": "string", "pattern": "^[LRB](\\+[0-9]+(\\.[0-9]+)?)?(\\*[0-9]+)?$",
  "description": "L, R or B (both), +HOLD seconds (default 0.2), *COUNT: \"R\", \"R+3.2\", \"B+3.2\", \"R*6\""}
D["step"] = {"type": "object", "additionalProperties": False, "required": ["title", "lcd"],
  "properties": {
    "title": {"type": "string", "description": "the caption's title"},
    "text": {"type": "string", "description": "the caption's paragraph"},
    "do": {"type": "array", "description": "what the step does, one after the other",
           "items": {"oneOf": [{"$ref": "#/$defs/press"}, {"oneOf": step_ev}]}},
    "hint": {"type": "string", "description": "default: derived from the presses (\"hold R 3 s\")"},
    "lcd": {"type": "string", "pattern": "^[^|]* \\| [^|]* \\| [^|]*$",
            "description": "the LCD the step ends on, \"icons | value | name\" (as --lcd-text prints it)"},
    "wait": {"$ref": "#/$defs/time", "description": "from the last action to the step's end (default: the tour's settle)"},
    "expect": {"type": "array", "items": {"$ref": "#/$defs/step_expectation"}, "description": "checked at the step's end"},
    "comment": {"type": "string"}}}
D["tour"] = {"type": "object", "additionalProperties": False, "required": ["steps"],
  "properties": {
    "manual": {"type": "string", "description": "the manual's section the tour follows, e.g. \"7.10.1\""},
    "start": {"$ref": "#/$defs/time", "description": "when the first step starts (default 1 s)"},
    "lead": {"$ref": "#/$defs/time", "description": "from a caption to its first action (default 0.6 s)"},
    "gap": {"$ref": "#/$defs/time", "description": "between actions (default 0.5 s)"},
    "settle": {"$ref": "#/$defs/time", "description": "from the last action to the step's end (default 0.2 s)"},
    "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1, "maxItems": 200},
    "meter": {"type": "string", "description": "with \"meters\": the meter the tour shows, presses and checks (default: the first); a step's event or expectation without \"meter\" is for it"},
    "comment": {"type": "string"}}}
schema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://klefr-sim.invalid/scenarios/schema.json",
  "title": "klefr-sim scenario",
  "description": "A scenario for klefr-sim scenario (docs/scenarios.md): a meter, a load timeline, timed events and expectations.",
  "type": "object", "additionalProperties": False,
  "properties": {
    "$schema": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
    "comment": {"type": "string"}, "meter": {"$ref": "#/$defs/meter"},
    "meters": {"type": "array", "items": {"$ref": "#/$defs/scenario_meter"}, "minItems": 1,
               "description": "an installation (docs/fleet.md), instead of \"meter\""},
    "lines": {"type": "array", "items": {"$ref": "#/$defs/scenario_line"}, "maxItems": 64},
    "site": {"type": "object", "additionalProperties": False,
             "properties": {"spread": {"type": "number", "minimum": 0, "maximum": 1}, "comment": {"type": "string"}}},
    "seed": {"type": "integer", "minimum": 0, "description": "the meters' seeds (\"meters\")"},
    "timeline": {"type": "array", "items": {"$ref": "#/$defs/segment"}},
    "repeat": {"type": "boolean"}, "duration": time,
    "events": {"type": "array", "items": {"$ref": "#/$defs/event"}},
    "expect": {"type": "array", "items": {"$ref": "#/$defs/expectation"}},
    "tour": {"$ref": "#/$defs/tour", "description": "a guided tour: captions, presses, hints, LCD checks (docs/tours.md)"}},
  "not": {"required": ["meter", "meters"]},
  "dependentRequired": {"lines": ["meters"], "site": ["meters"], "seed": ["meters"]},
  "$defs": D}
json.dump(schema, open(sys.argv[1], "w"), indent=2)
open(sys.argv[1], "a").write("\n")

# The fleet file (docs/fleet.md): lines, the site, meters (a "count" makes many).
# usage: scripts/gen_scenario_schema.py scenarios/schema.json scenarios/fleets/schema.json
if len(sys.argv) > 2:
    F = {k: D[k] for k in ["time", "settings", "registers", "per_tariff", "line", "fleet_meter", "site"]}
    fleet = {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://klefr-sim.invalid/scenarios/fleets/schema.json",
      "title": "klefr-sim fleet",
      "description": "An installation of many meters for klefr-sim --fleet (docs/fleet.md): lines, the site's load, the meters.",
      "type": "object", "additionalProperties": False, "required": ["meters"],
      "properties": {
        "$schema": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
        "comment": {"type": "string"}, "seed": {"type": "integer", "minimum": 0}, "duration": time,
        "site": {"$ref": "#/$defs/site"},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}, "maxItems": 64},
        "meters": {"type": "array", "items": {"$ref": "#/$defs/fleet_meter"}, "minItems": 1}},
      "$defs": F}
    json.dump(fleet, open(sys.argv[2], "w"), indent=2)
    open(sys.argv[2], "a").write("\n")
