#!/usr/bin/env python3
"""Side-by-side benchmark: zkinfer vs ezkl (halo2/KZG) on the same ONNX models.

One command:

    python3 bench/compare_ezkl.py                       # default models, both tools
    python3 bench/compare_ezkl.py --models mlp_784_128_10 --tools ezkl
    python3 bench/compare_ezkl.py --extra path/to/dir   # dir holds network.onnx + input.json

What it does
  * creates/updates its own virtualenv (default bench/.venv) from bench/requirements.txt
    and re-runs itself inside it;
  * writes missing models with bench/gen_models.py (seeded, deterministic);
  * ezkl: gen_settings -> calibrate_settings("resources") -> compile_circuit -> gen_srs
    (local, insecure, benchmark only) -> setup -> gen_witness -> prove -> verify,
    every step in a fresh process (python wrapper around the ezkl Python API);
  * zkinfer: compile -> setup -> prove -> verify with target/release/zkinfer (built first
    with `cargo build --release -p zkinfer-cli` unless --no-build / --zkinfer);
  * every step runs with a timeout under /usr/bin/time -v (or a getrusage wrapper), which
    gives wall time and peak RSS; a failing step is recorded (timeout, killed / out of
    memory, unsupported op, error text) and the run goes on;
  * compares both tools' outputs with onnxruntime's float output;
  * writes results/compare.md and results/compare.json (after every model, so a partial
    run still leaves a table).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
SCRIPT = os.path.abspath(__file__)
REQUIREMENTS = os.path.join(BENCH, "requirements.txt")
GEN_MODELS = os.path.join(BENCH, "gen_models.py")
GNU_TIME = "/usr/bin/time"

BUILTIN_MODELS = ["mlp_784_128_10", "mlp_784_512x2_10", "mlp_1024x4_10", "mlp_784_2048x5_10",
                  "lenet5", "resnet20", "vgg16_cifar"]
DEFAULT_MODELS = ["mlp_784_128_10", "mlp_784_512x2_10", "mlp_1024x4_10", "mlp_784_2048x5_10", "lenet5"]
TOOLS = ["ezkl", "zkinfer"]
ORIG_CMD_ENV = "ZKINFER_BENCH_ORIG_CMD"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# =============================================================================
# Virtualenv bootstrap
# =============================================================================

def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ensure_venv(venv: str) -> None:
    """Create/update the venv and re-exec this script inside it (returns if already inside)."""
    venv = os.path.abspath(venv)
    py = os.path.join(venv, "bin", "python")
    inside = os.path.realpath(sys.prefix) == os.path.realpath(venv)
    stamp = os.path.join(venv, ".requirements.sha256")
    want = _sha256(REQUIREMENTS)
    have = open(stamp).read().strip() if os.path.exists(stamp) else ""
    if inside and have == want:
        return
    if not os.path.exists(py):
        log(f"creating virtualenv {venv} with {sys.executable}")
        r = subprocess.run([sys.executable, "-m", "venv", venv])
        if r.returncode != 0:
            sys.exit(f"compare_ezkl: could not create the virtualenv {venv} (python -m venv failed)")
    if have != want:
        log(f"installing {REQUIREMENTS} into {venv}")
        r = subprocess.run([py, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", REQUIREMENTS])
        if r.returncode != 0:
            sys.exit(f"compare_ezkl: pip install -r {REQUIREMENTS} failed (see above); nothing was benchmarked")
        with open(stamp, "w") as f:
            f.write(want + "\n")
    os.environ.setdefault(ORIG_CMD_ENV, shlex.join([os.path.basename(sys.executable)] + sys.argv))
    os.execv(py, [py, SCRIPT] + sys.argv[1:])


# =============================================================================
# Child-process entry points (hidden sub-commands)
# =============================================================================

def ezkl_step_main(argv: list[str]) -> int:
    """`_ezkl-step STEP ARGS_JSON RESULT_JSON`: run one ezkl API call in this fresh process."""
    step, kw, result_path = argv[0], json.loads(argv[1]), argv[2]
    import asyncio
    import inspect
    import traceback

    res: dict = {"step": step}

    def finish(code: int) -> int:
        with open(result_path, "w") as f:
            json.dump(res, f)
        return code

    try:
        import ezkl

        def settle(r):
            # Some ezkl releases return awaitables from a few calls; 23.0.5 does not.
            if inspect.isawaitable(r):
                async def _await():
                    return await r
                return asyncio.run(_await())
            return r

        t0 = time.perf_counter()
        if step == "gen_settings":
            r = ezkl.gen_settings(model=kw["model"], output=kw["settings"], py_run_args=ezkl.PyRunArgs())
        elif step == "calibrate_settings":
            r = ezkl.calibrate_settings(data=kw["data"], model=kw["model"], settings=kw["settings"],
                                        target="resources")
        elif step == "compile_circuit":
            r = ezkl.compile_circuit(model=kw["model"], compiled_circuit=kw["compiled"],
                                     settings_path=kw["settings"])
        elif step == "gen_srs":
            r = ezkl.gen_srs(kw["srs"], int(kw["logrows"]))
        elif step == "setup":
            r = ezkl.setup(model=kw["compiled"], vk_path=kw["vk"], pk_path=kw["pk"], srs_path=kw["srs"])
        elif step == "gen_witness":
            r = ezkl.gen_witness(data=kw["data"], model=kw["compiled"], output=kw["witness"],
                                 vk_path=kw["vk"], srs_path=kw["srs"])
        elif step == "prove":
            r = ezkl.prove(witness=kw["witness"], model=kw["compiled"], pk_path=kw["pk"],
                           proof_path=kw["proof"], srs_path=kw["srs"])
        elif step == "verify":
            r = ezkl.verify(proof_path=kw["proof"], settings_path=kw["settings"], vk_path=kw["vk"],
                            srs_path=kw["srs"])
        else:
            raise ValueError(f"unknown ezkl step {step!r}")
        r = settle(r)
        res["call_s"] = time.perf_counter() - t0
        if r is False:
            res["ok"] = False
            res["error"] = f"ezkl.{step} returned False"
            print(res["error"], file=sys.stderr)
            return finish(1)
        res["ok"] = True
        return finish(0)
    except BaseException as e:  # noqa: BLE001 - record everything, including MemoryError
        res["ok"] = False
        res["error"] = f"{type(e).__name__}: {e}"
        traceback.print_exc()
        return finish(1)


def rusage_main(argv: list[str]) -> int:
    """`_rusage OUT -- CMD...`: fallback for /usr/bin/time -v (same output lines)."""
    out, cmd = argv[0], argv[2:]
    try:
        p = subprocess.Popen(cmd)
    except OSError as e:
        with open(out, "w") as f:
            f.write(f"Command exited with non-zero status 127\ncannot run {cmd[0]}: {e}\n")
        return 127
    rc = p.wait()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        f.write(f"Maximum resident set size (kbytes): {ru.ru_maxrss}\n")
        f.write(f"Command terminated by signal {-rc}\n" if rc < 0 else f"Exit status: {rc}\n")
    return 128 - rc if rc < 0 else rc


# =============================================================================
# Running one step
# =============================================================================

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
UNSUPPORTED = re.compile(r"unsupported|not supported|not yet supported|unimplemented|not implemented|"
                         r"unknown op|no support", re.I)
OOM = re.compile(r"memory allocation of \d+ bytes failed|MemoryError|out of memory|Cannot allocate memory", re.I)

_current_child: subprocess.Popen | None = None


def _tail(path: str, lines: int = 12, chars: int = 1500) -> str:
    try:
        with open(path, errors="replace") as f:
            text = ANSI.sub("", f.read())
    except OSError:
        return ""
    keep = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    out = "\n".join(keep[-lines:])
    return out[-chars:]


def _parse_time_file(path: str) -> dict:
    info: dict = {}
    try:
        text = open(path, errors="replace").read()
    except OSError:
        return info
    m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", text)
    if m:
        info["max_rss_mb"] = int(m.group(1)) / 1024.0
    m = re.search(r"Command terminated by signal (\d+)", text)
    if m:
        info["signal"] = int(m.group(1))
    m = re.search(r"Exit status:\s*(-?\d+)", text)
    if m:
        info["exit_status"] = int(m.group(1))
    m = re.search(r"User time \(seconds\):\s*([\d.]+)", text)
    if m:
        info["user_s"] = float(m.group(1))
    m = re.search(r"System time \(seconds\):\s*([\d.]+)", text)
    if m:
        info["sys_s"] = float(m.group(1))
    return info


def run_step(name: str, argv: list[str], logdir: str, timeout: float, cwd: str | None = None) -> dict:
    """Run argv in a new session under /usr/bin/time -v; never raises for a failing command."""
    global _current_child
    os.makedirs(logdir, exist_ok=True)
    out_p, err_p, time_p = (os.path.join(logdir, f"{name}.{s}") for s in ("stdout", "stderr", "time"))
    for p in (time_p,):
        if os.path.exists(p):
            os.remove(p)
    if os.path.exists(GNU_TIME) and os.access(GNU_TIME, os.X_OK):
        full = [GNU_TIME, "-v", "-o", time_p] + argv
    else:
        full = [sys.executable, SCRIPT, "_rusage", time_p, "--"] + argv
    rec: dict = {"step": name, "cmd": shlex.join(argv), "stdout": out_p, "stderr": err_p,
                 "loadavg_before": round(os.getloadavg()[0], 2)}
    log(f"  {name}: {shlex.join(argv)[:160]}")
    timed_out = False
    t0 = time.perf_counter()
    with open(out_p, "w") as fo, open(err_p, "w") as fe:
        try:
            p = subprocess.Popen(full, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL,
                                 cwd=cwd, start_new_session=True)
        except OSError as e:
            rec.update(status="error", error=f"cannot start: {e}", wall_s=None)
            return rec
        _current_child = p
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(p)
            rc = p.wait()
        finally:
            _current_child = None
    wall = time.perf_counter() - t0
    t = _parse_time_file(time_p)
    rec.update(wall_s=wall, exit_code=rc, **t)
    err_text = _tail(err_p) or _tail(out_p)
    sig = t.get("signal") or (-rc if rc < 0 else None)
    if timed_out:
        rec.update(status="timeout", error=f"timed out after {timeout:.0f} s (process group killed)")
    elif sig:
        if sig == signal.SIGKILL:
            rss_gb = t.get("max_rss_mb", 0) / 1024
            mem_gb = machine_info().get("mem_gb") or 0
            why = " (most likely the kernel OOM killer)" if mem_gb and rss_gb > 0.5 * mem_gb else ""
            rec.update(status="killed", error=f"killed by SIGKILL at peak RSS {rss_gb:.1f} GB "
                                              f"of {mem_gb} GB{why}")
        elif OOM.search(err_text or ""):
            rec.update(status="oom", error=f"out of memory (signal {sig}): {err_text[-400:]}")
        else:
            rec.update(status="crashed", error=f"terminated by signal {sig}: {err_text[-400:]}")
    elif rc != 0 or t.get("exit_status", 0) != 0:
        if OOM.search(err_text or ""):
            status = "oom"
        elif UNSUPPORTED.search(err_text or ""):
            status = "unsupported"
        else:
            status = "error"
        rec.update(status=status, error=err_text or f"exit code {rc}, no output")
    else:
        rec["status"] = "ok"
    if rec["status"] != "ok":
        log(f"  {name}: {rec['status'].upper()}: {rec['error'].splitlines()[-1][:200] if rec['error'] else ''}")
    else:
        log(f"  {name}: ok in {wall:.2f} s, peak RSS {t.get('max_rss_mb', float('nan')):.0f} MB")
    return rec


def _kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def skipped(name: str, why: str) -> dict:
    return {"step": name, "status": "skipped", "error": why}


# =============================================================================
# Reference output, comparisons
# =============================================================================

def read_input(path: str) -> list[float]:
    with open(path) as f:
        d = json.load(f)
    data = d["input_data"]
    if isinstance(data, list) and data and isinstance(data[0], list):
        data = data[0]
    return [float(v) for v in data]


def count_params(onnx_path: str) -> int | None:
    try:
        import numpy as np
        import onnx
        from onnx import numpy_helper
        m = onnx.load(onnx_path)
        n = 0
        for t in m.graph.initializer:
            a = numpy_helper.to_array(t)
            if np.issubdtype(a.dtype, np.floating):
                n += int(a.size)
        return n
    except Exception as e:  # noqa: BLE001
        log(f"  could not count parameters of {onnx_path}: {e}")
        return None


def reference_output(onnx_path: str, input_path: str) -> tuple[list[float] | None, str | None]:
    try:
        import numpy as np
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        s = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        i = s.get_inputs()[0]
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        x = np.asarray(read_input(input_path), dtype=np.float32).reshape(shape)
        y = s.run(None, {i.name: x})[0]
        return [float(v) for v in np.asarray(y).ravel()], None
    except Exception as e:  # noqa: BLE001
        return None, f"onnxruntime failed: {type(e).__name__}: {e}"


def argmax(v: list[float]) -> int:
    best = 0
    for i, x in enumerate(v):
        if x > v[best]:
            best = i
    return best


def compare(ref: list[float] | None, got: list[float] | None) -> dict:
    if ref is None or got is None:
        return {}
    if len(ref) != len(got):
        return {"output_error": f"output length {len(got)} != reference {len(ref)}"}
    return {"max_abs_err": max((abs(a - b) for a, b in zip(ref, got)), default=0.0),
            "top1_agree": argmax(ref) == argmax(got)}


# =============================================================================
# ezkl pipeline
# =============================================================================

class SrsCache:
    """One locally generated (insecure, benchmark-only) SRS per logrows, kept across runs."""

    def __init__(self, root: str, fresh: bool):
        self.root = root
        self.fresh = fresh  # regenerate files left by earlier runs
        self.made: dict[int, str] = {}

    def path(self, logrows: int) -> str:
        return os.path.join(self.root, f"kzg{logrows}.srs")


def run_ezkl(model_dir: str, work: str, timeout: float, srs: SrsCache) -> dict:
    os.makedirs(work, exist_ok=True)
    onnx_p = os.path.join(model_dir, "network.onnx")
    data_p = os.path.join(model_dir, "input.json")
    f = {k: os.path.join(work, v) for k, v in dict(
        settings="settings.json", compiled="network.compiled", vk="vk.key", pk="pk.key",
        witness="witness.json", proof="proof.json").items()}
    logdir = os.path.join(work, "logs")
    steps: dict[str, dict] = {}
    failed: str | None = None

    def step(name: str, **kw) -> bool:
        nonlocal failed
        if failed:
            steps[name] = skipped(name, f"not run: {failed} failed")
            return False
        res_p = os.path.join(logdir, f"{name}.result.json")
        os.makedirs(logdir, exist_ok=True)
        if os.path.exists(res_p):
            os.remove(res_p)
        rec = run_step(name, [sys.executable, SCRIPT, "_ezkl-step", name, json.dumps(kw), res_p],
                       logdir, timeout)
        try:
            with open(res_p) as fh:
                r = json.load(fh)
            rec["call_s"] = r.get("call_s")
            if rec["status"] == "ok" and not r.get("ok", False):
                rec.update(status="error", error=r.get("error", "ezkl reported failure"))
            elif rec["status"] != "ok" and r.get("error") and rec["status"] not in ("timeout", "killed"):
                # the exception text is more useful than a traceback tail
                msg = r["error"]
                rec["error"] = msg
                if UNSUPPORTED.search(msg):
                    rec["status"] = "unsupported"
                elif OOM.search(msg):
                    rec["status"] = "oom"
        except (OSError, ValueError):
            pass
        steps[name] = rec
        if rec["status"] != "ok":
            failed = name
            return False
        return True

    step("gen_settings", model=onnx_p, settings=f["settings"])
    step("calibrate_settings", data=data_p, model=onnx_p, settings=f["settings"])
    step("compile_circuit", model=onnx_p, compiled=f["compiled"], settings=f["settings"])
    settings: dict = {}
    logrows = None
    if not failed:
        try:
            with open(f["settings"]) as fh:
                settings = json.load(fh)
            logrows = int(settings["run_args"]["logrows"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            failed = "reading settings"
            steps["gen_srs"] = {"step": "gen_srs", "status": "error", "error": f"cannot read logrows: {e}"}
    srs_p = srs.path(logrows) if logrows else ""
    if not failed:
        if os.path.exists(srs_p) and not (srs.fresh and logrows not in srs.made):
            steps["gen_srs"] = {"step": "gen_srs", "status": "ok", "reused": True, "wall_s": None,
                                "note": f"reused {srs_p}"}
        else:
            os.makedirs(srs.root, exist_ok=True)
            partial = srs_p + ".partial"
            if step("gen_srs", srs=partial, logrows=logrows):
                os.replace(partial, srs_p)
                srs.made[logrows] = srs_p
    step("setup", compiled=f["compiled"], vk=f["vk"], pk=f["pk"], srs=srs_p)
    step("gen_witness", data=data_p, compiled=f["compiled"], witness=f["witness"], vk=f["vk"], srs=srs_p)
    step("prove", witness=f["witness"], compiled=f["compiled"], pk=f["pk"], proof=f["proof"], srs=srs_p)
    step("verify", proof=f["proof"], settings=f["settings"], vk=f["vk"], srs=srs_p)

    out: dict = {"steps": steps, "work_dir": work}
    if settings:
        ra = settings.get("run_args", {})
        out["settings"] = {k: ra.get(k) for k in ("logrows", "input_scale", "param_scale", "input_visibility",
                                                  "output_visibility", "param_visibility", "lookup_range")}
        out["settings"]["num_rows"] = settings.get("num_rows")
    # outputs (from the witness) and proof size
    if steps.get("gen_witness", {}).get("status") == "ok":
        try:
            with open(f["witness"]) as fh:
                w = json.load(fh)
            outs = w["pretty_elements"]["rescaled_outputs"]
            flat: list[float] = []
            for o in outs:
                flat.extend(float(v) for v in o)
            out["output"] = flat
        except (OSError, ValueError, KeyError, TypeError) as e:
            out["output_error"] = f"could not read rescaled_outputs from the witness: {e}"
    if steps.get("prove", {}).get("status") == "ok":
        try:
            with open(f["proof"]) as fh:
                pr = json.load(fh)
            if isinstance(pr.get("proof"), list):
                out["proof_bytes"] = len(pr["proof"])
            elif isinstance(pr.get("hex_proof"), str):
                out["proof_bytes"] = (len(pr["hex_proof"]) - 2) // 2
            out["proof_file_bytes"] = os.path.getsize(f["proof"])
        except (OSError, ValueError) as e:
            out["proof_error"] = str(e)
    for k in ("pk", "vk"):
        if os.path.exists(f[k]):
            out[f"{k}_bytes"] = os.path.getsize(f[k])
    return out


# =============================================================================
# zkinfer pipeline
# =============================================================================

def _json_from_stdout(path: str) -> dict | None:
    try:
        text = open(path, errors="replace").read().strip()
    except OSError:
        return None
    if not text:
        return None
    try:
        v = json.loads(text)
        return v if isinstance(v, dict) else {"value": v}
    except ValueError:
        pass
    for line in reversed(text.splitlines()):  # last JSON line
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def _find_proof_size(d: dict | None) -> int | None:
    if not isinstance(d, dict):
        return None
    for k in ("proof_size_bytes", "proof_bytes", "proof_size", "proof_len", "size_bytes"):
        if isinstance(d.get(k), int):
            return d[k]
    for k, v in d.items():
        if isinstance(v, int) and "proof" in k.lower() and ("size" in k.lower() or "bytes" in k.lower()):
            return v
        if isinstance(v, dict):
            r = _find_proof_size(v)
            if r is not None:
                return r
    return None


def run_zkinfer(binary: str | None, binary_problem: str | None, model_dir: str, work: str,
                timeout: float, compile_args: list[str] | None = None) -> dict:
    os.makedirs(work, exist_ok=True)
    onnx_p = os.path.join(model_dir, "network.onnx")
    data_p = os.path.join(model_dir, "input.json")
    zkm, keydir = os.path.join(work, "model.zkm"), os.path.join(work, "keys")
    proof, outj = os.path.join(work, "proof.zkp"), os.path.join(work, "output.json")
    logdir = os.path.join(work, "logs")
    steps: dict[str, dict] = {}
    failed: str | None = binary_problem
    pk, vk = os.path.join(keydir, "model.pk"), os.path.join(keydir, "model.vk")
    # (step, arguments, files it must have written)
    plan = [
        ("compile", [onnx_p, "--calibration", data_p, "-o", zkm, "--json", *(compile_args or [])], [zkm]),
        ("setup", [zkm, "-o", keydir, "--json"], [pk, vk]),
        ("prove", ["--pk", pk, "--input", data_p, "-o", proof, "--output", outj, "--json"], [proof, outj]),
        ("verify", ["--vk", vk, "--proof", proof, "--input", data_p, "--output", outj, "--json"], []),
    ]
    # clear outputs of an earlier run so nothing stale is read back
    for p in (zkm, proof, outj):
        if os.path.exists(p):
            os.remove(p)
    shutil.rmtree(keydir, ignore_errors=True)
    for name, args, must_write in plan:
        if failed and failed == binary_problem and not steps:
            steps[name] = {"step": name, "status": "unavailable", "error": f"zkinfer not run: {failed}"}
            continue
        if failed:
            steps[name] = skipped(name, f"not run: {failed} failed" if failed != binary_problem
                                  else "not run: zkinfer unavailable")
            continue
        rec = run_step(name, [binary] + [name] + args, logdir, timeout)
        rec["json"] = _json_from_stdout(rec["stdout"])
        if rec["status"] in ("error", "unsupported") and re.search(
                r"unrecognized subcommand|unexpected argument|invalid value|unrecognized argument",
                rec.get("error", ""), re.I):
            rec["status"] = "cli-mismatch"
        missing = [p for p in must_write if not os.path.exists(p)]
        if rec["status"] == "ok" and missing:
            rec.update(status="error", error=f"exited 0 but did not write {', '.join(missing)}")
        if rec["status"] == "ok" and rec["json"] is None:
            rec["note"] = "--json printed no JSON object on stdout"
        steps[name] = rec
        if rec["status"] != "ok":
            failed = name
    out: dict = {"steps": steps, "work_dir": work}
    if steps["prove"].get("status") == "ok":
        size = _find_proof_size(steps["prove"].get("json"))
        if size is not None:
            out["proof_bytes"], out["proof_bytes_source"] = size, "prove --json"
        elif os.path.exists(proof):
            out["proof_bytes"], out["proof_bytes_source"] = os.path.getsize(proof), "file size"
        try:
            with open(outj) as fh:
                o = json.load(fh)
            vals = o["output"] if isinstance(o, dict) else o
            flat: list[float] = []

            def walk(v):
                if isinstance(v, list):
                    for x in v:
                        walk(x)
                else:
                    flat.append(float(v))
            walk(vals)
            out["output"] = flat
        except (OSError, ValueError, KeyError, TypeError) as e:
            out["output_error"] = f"could not read {outj}: {e}"
    if steps["verify"].get("status") == "ok":
        j = steps["verify"].get("json") or {}
        for k in ("verified", "valid", "ok"):
            if j.get(k) is False:
                steps["verify"].update(status="error", error=f"verify --json reported {k}=false")
    for k in ("model.pk", "model.vk"):
        p = os.path.join(keydir, k)
        if os.path.exists(p):
            out[k.replace("model.", "") + "_bytes"] = os.path.getsize(p)
    return out


def build_zkinfer(timeout: float, logdir: str) -> tuple[str | None, str | None, dict]:
    binary = os.path.join(REPO, "target", "release", "zkinfer")
    cargo = shutil.which("cargo")
    if not cargo:
        return None, "cargo not found", {"status": "error", "error": "cargo not found on PATH"}
    log("building zkinfer: cargo build --release -p zkinfer-cli")
    rec = run_step("cargo_build", [cargo, "build", "--release", "-p", "zkinfer-cli"], logdir, timeout, cwd=REPO)
    if rec["status"] != "ok":
        try:
            text = ANSI.sub("", open(rec["stderr"], errors="replace").read())
        except OSError:
            text = ""
        errs = re.findall(r"^error: could not compile `([^`]+)`", text, re.M)
        first = next((ln for ln in text.splitlines() if ln.startswith("error")), "")
        why = (f"crates {', '.join(sorted(set(errs)))} do not compile; first error: {first}" if errs
               else rec.get("error", "").splitlines()[-1:] and rec["error"].splitlines()[-1])
        return None, f"cargo build failed ({rec['status']}): {why}"[:400], rec
    if not os.path.exists(binary):
        return None, f"{binary} missing after build", rec
    return binary, None, rec


# =============================================================================
# Summary, report
# =============================================================================

def _w(steps: dict, *names: str) -> float | None:
    tot = 0.0
    for n in names:
        s = steps.get(n, {})
        if s.get("status") != "ok" or s.get("wall_s") is None:
            return None
        tot += s["wall_s"]
    return tot


def _rss(steps: dict, *names: str) -> float | None:
    vals = [steps.get(n, {}).get("max_rss_mb") for n in names]
    if any(steps.get(n, {}).get("status") != "ok" for n in names) or any(v is None for v in vals):
        return None
    return max(vals)


def summarize(tool: str, r: dict, ref: list[float] | None) -> dict:
    st = r.get("steps", {})
    if tool == "ezkl":
        s = {"compile_s": _w(st, "gen_settings", "calibrate_settings", "compile_circuit"),
             "srs_s": _w(st, "gen_srs") if not st.get("gen_srs", {}).get("reused") else None,
             "setup_s": _w(st, "setup"),
             "prove_s": _w(st, "gen_witness", "prove"),
             "verify_s": _w(st, "verify"),
             "prove_rss_mb": _rss(st, "gen_witness", "prove"),
             "setup_rss_mb": _rss(st, "setup")}
    else:
        s = {"compile_s": _w(st, "compile"), "setup_s": _w(st, "setup"), "prove_s": _w(st, "prove"),
             "verify_s": _w(st, "verify"), "prove_rss_mb": _rss(st, "prove"), "setup_rss_mb": _rss(st, "setup")}
    s["proof_bytes"] = r.get("proof_bytes")
    s.update(compare(ref, r.get("output")))
    if r.get("output_error"):
        s["output_error"] = r["output_error"]
    bad = [v for v in st.values() if v.get("status") not in ("ok",)]
    first = next((v for v in bad if v.get("status") != "skipped"), None) or (bad[0] if bad else None)
    if first is None:
        s["status"] = "ok"
    else:
        msg = (first.get("error") or "").strip().splitlines()
        s["status"] = f"{first['step']}: {first['status']}"
        s["status_detail"] = msg[-1][:300] if msg else ""
    return s


def _fmt_s(v):
    if v is None:
        return "—"
    return f"{v:.2f} s" if v < 100 else f"{v:.0f} s"


def _fmt_mb(v):
    if v is None:
        return "—"
    return f"{v:.0f} MB" if v < 1024 else f"{v / 1024:.2f} GB"


def _fmt_b(v):
    if v is None:
        return "—"
    return f"{v} B" if v < 1024 else (f"{v / 1024:.1f} KiB" if v < 1 << 20 else f"{v / (1 << 20):.2f} MiB")


def _ratio(a, b):
    return a / b if (a is not None and b) else None


def _fmt_r(v):
    if v is None:
        return "—"
    return f"{v:.2g}×" if v < 1 else (f"{v:.1f}×" if v < 100 else f"{v:.0f}×")


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def write_report(report: dict, md_path: str, json_path: str) -> None:
    os.makedirs(os.path.dirname(md_path) or ".", exist_ok=True)
    os.makedirs(os.path.dirname(json_path) or ".", exist_ok=True)
    tmp = json_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    os.replace(tmp, json_path)

    m = report["machine"]
    L = ["# zkinfer vs ezkl", "",
         f"- date: {report['date']}{' (incomplete run)' if not report.get('complete') else ''}",
         f"- machine: {m.get('cpu_model')}, {m.get('cores')} cores, {m.get('mem_gb')} GB RAM",
         f"- command: `{report['command']}`",
         f"- versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
         f"- step timeout: {report['timeout_s']:.0f} s; steps run one after another in this invocation, "
         f"each in its own process",
         f"- zkinfer binary: {report.get('zkinfer_binary') or 'none — ' + (report.get('zkinfer_problem') or '')}",
         f"- load average (1 min) at start: {report.get('loadavg_start')}, at end: {report.get('loadavg_end')} "
         f"(other work on the machine inflates times; per-step values are in the JSON)",
         ""]
    L += ["| model | params | tool | compile | setup | prove | verify | proof size | prove peak RSS "
          "| max abs err | top-1 | status |",
          "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|:-:|---|"]
    for mr in report["models"]:
        for tool in report["tools"]:
            s = mr.get("summary", {}).get(tool)
            if s is None:
                continue
            err = s.get("max_abs_err")
            top1 = {True: "yes", False: "**no**"}.get(s.get("top1_agree"), "—")
            status = s["status"] if s["status"] == "ok" else f"{s['status']} — {s.get('status_detail', '')}"
            params = "?" if mr.get("params") is None else f"{mr['params']:,}"
            L.append(f"| {mr['name']} | {params} | {tool} | {_fmt_s(s.get('compile_s'))} | "
                     f"{_fmt_s(s.get('setup_s'))} | {_fmt_s(s.get('prove_s'))} | {_fmt_s(s.get('verify_s'))} | "
                     f"{_fmt_b(s.get('proof_bytes'))} | {_fmt_mb(s.get('prove_rss_mb'))} | "
                     f"{'—' if err is None else f'{err:.2e}'} | {top1} | {_md_escape(status)[:240]} |")
    if set(report["tools"]) == set(TOOLS):
        L += ["", "Ratios ezkl ÷ zkinfer (higher = zkinfer better):", "",
              "| model | prove time | prove peak RSS | setup time | verify time | proof size |",
              "|---|---:|---:|---:|---:|---:|"]
        for mr in report["models"]:
            r = mr.get("ratios", {})
            L.append(f"| {mr['name']} | {_fmt_r(r.get('prove_time'))} | {_fmt_r(r.get('prove_rss'))} | "
                     f"{_fmt_r(r.get('setup_time'))} | {_fmt_r(r.get('verify_time'))} | "
                     f"{_fmt_r(r.get('proof_size'))} |")
    L += ["", "Notes:",
          "- Times are wall-clock per process (`/usr/bin/time -v`), RSS is the process's peak resident set.",
          "- ezkl: *compile* = gen_settings + calibrate_settings(target=\"resources\") + compile_circuit; "
          "*prove* = gen_witness + prove (zkinfer's prove includes its forward pass); prove RSS = max of the two. "
          "SRS generation (local, insecure, `ezkl.gen_srs`; reused across runs) is excluded and listed in the JSON. "
          "Python-API defaults: input public, params fixed, output public. Each ezkl step pays for starting "
          f"Python and `import ezkl` (measured here: {_fmt_s(report.get('ezkl_import', {}).get('wall_s'))}, "
          f"{_fmt_mb(report.get('ezkl_import', {}).get('max_rss_mb'))}).",
          "- zkinfer: *compile* = `zkinfer compile` (quantization + calibration on input.json).",
          "- Output error: max |tool output − onnxruntime float output|; top-1 = same argmax. ezkl outputs come "
          "from the witness (`pretty_elements.rescaled_outputs`), zkinfer's from `prove --output`.",
          "- Proof size: ezkl = bytes of the proof (the `proof` array of proof.json); zkinfer = size reported by "
          "`prove --json` (else the .zkp file size).", ""]
    fails = [(mr["name"], tool, st) for mr in report["models"] for tool in report["tools"]
             for st in mr.get(tool, {}).get("steps", {}).values()
             if st.get("status") not in ("ok", "skipped")]
    if fails:
        L += ["Failures:", "", "| model | tool | step | status | message |", "|---|---|---|---|---|"]
        for name, tool, st in fails:
            msg = (st.get("error") or "").strip().splitlines()
            L.append(f"| {name} | {tool} | {st['step']} | {st['status']} | "
                     f"{_md_escape(msg[-1] if msg else '')[:300]} |")
        L.append("")
    with open(md_path, "w") as f:
        f.write("\n".join(L))


# =============================================================================
# Machine / versions
# =============================================================================

def machine_info() -> dict:
    info: dict = {"cores": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
            elif line.startswith("CPU(s):"):
                info["cores"] = int(line.split(":", 1)[1].strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                info["mem_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


def versions(binary: str | None) -> dict:
    from importlib import metadata
    v = {"python": sys.version.split()[0]}
    for p in ("ezkl", "onnx", "onnxruntime", "numpy"):
        try:
            v[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            v[p] = "not installed"
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        v["zkinfer"] = (rev.stdout.strip() or "no commit") + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        v["zkinfer"] = "unknown"
    return v


# =============================================================================
# main
# =============================================================================

def parse_args(argv):
    ap = argparse.ArgumentParser(description="zkinfer vs ezkl benchmark (see bench/README.md)")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS),
                    help="comma-separated built-in model names, or 'all', or '' for none "
                         f"(default: {','.join(DEFAULT_MODELS)}; built-in: {','.join(BUILTIN_MODELS)})")
    ap.add_argument("--extra", action="append", default=[], metavar="DIR",
                    help="also benchmark DIR (holds network.onnx + input.json); repeatable")
    ap.add_argument("--tools", default="ezkl,zkinfer", help="comma-separated subset of ezkl,zkinfer")
    ap.add_argument("--ezkl-max-params", type=int, default=None, metavar="N",
                    help="skip ezkl (recorded as skipped) on models with more than N parameters; "
                         "ezkl needs >20 GB long before the largest models")
    ap.add_argument("--zkinfer-compile-args", default="", metavar="ARGS",
                    help="extra arguments for `zkinfer compile`, e.g. \"--act-bits 8 --weight-bits 8 "
                         "--input-bits 10\" (int8: slightly faster on small models, larger error)")
    ap.add_argument("--ezkl-skip", default="", metavar="NAMES",
                    help="comma-separated models on which ezkl is not run (recorded as skipped)")
    ap.add_argument("--timeout", type=float, default=1800, help="per-step timeout in seconds (default 1800)")
    ap.add_argument("--models-dir", default=os.path.join(BENCH, "models"),
                    help="where generated models live (default bench/models)")
    ap.add_argument("--work", default=os.path.join(BENCH, "results", "work"),
                    help="scratch folder for keys, proofs, logs (default bench/results/work)")
    ap.add_argument("--out", default=os.path.join(BENCH, "results", "compare"),
                    help="output path without extension: writes OUT.md and OUT.json (default bench/results/compare)")
    ap.add_argument("--venv", default=os.path.join(BENCH, ".venv"), help="virtualenv to use/create")
    ap.add_argument("--zkinfer", default=None, help="use this zkinfer binary (skips the cargo build)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run cargo build; use target/release/zkinfer as it is")
    ap.add_argument("--keep-artifacts", action="store_true",
                    help="keep the proving keys (large) after each model")
    ap.add_argument("--srs-dir", default=os.path.join(BENCH, "results", "srs"),
                    help="where ezkl's locally generated SRS files are kept and reused "
                         "(default bench/results/srs)")
    ap.add_argument("--fresh-srs", action="store_true", help="regenerate SRS files even if present")
    ap.add_argument("--regen", action="store_true", help="rewrite the built-in models even if present")
    return ap.parse_args(argv)


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    ensure_venv(a.venv)
    command = os.environ.get(ORIG_CMD_ENV) or shlex.join([os.path.basename(sys.executable)] + sys.argv)

    tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    bad = [t for t in tools if t not in TOOLS]
    if bad or not tools:
        print(f"compare_ezkl: --tools must be a subset of {','.join(TOOLS)} (got {a.tools!r})", file=sys.stderr)
        return 2
    names = BUILTIN_MODELS if a.models.strip() == "all" else [n.strip() for n in a.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in BUILTIN_MODELS]
    if unknown:
        print(f"compare_ezkl: unknown model(s) {', '.join(unknown)}; built-in: {', '.join(BUILTIN_MODELS)} "
              f"(use --extra DIR for your own)", file=sys.stderr)
        return 2
    model_dirs: list[tuple[str, str]] = []
    gen_sha = _sha256(GEN_MODELS)[:16]

    def up_to_date(n: str) -> bool:
        d = os.path.join(a.models_dir, n)
        try:
            meta = json.load(open(os.path.join(d, "meta.json")))
        except (OSError, ValueError):
            return False
        return meta.get("generator_sha256") == gen_sha and all(
            os.path.exists(os.path.join(d, f)) for f in ("network.onnx", "input.json"))

    missing = [n for n in names if a.regen or not up_to_date(n)]
    if missing:
        log(f"generating models: {', '.join(missing)}")
        r = subprocess.run([sys.executable, GEN_MODELS, "--out", a.models_dir] + missing)
        if r.returncode != 0:
            print("compare_ezkl: gen_models.py failed (see above)", file=sys.stderr)
            return 1
    model_dirs += [(n, os.path.join(a.models_dir, n)) for n in names]
    for d in a.extra:
        d = os.path.abspath(d)
        if not all(os.path.exists(os.path.join(d, f)) for f in ("network.onnx", "input.json")):
            print(f"compare_ezkl: --extra {d}: needs network.onnx and input.json", file=sys.stderr)
            return 2
        model_dirs.append((os.path.basename(d.rstrip("/")), d))
    if not model_dirs:
        print("compare_ezkl: no models selected", file=sys.stderr)
        return 2
    if len({n for n, _ in model_dirs}) != len(model_dirs):
        print("compare_ezkl: two models share a name; rename an --extra folder", file=sys.stderr)
        return 2

    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    md_path, json_path = a.out + ".md", a.out + ".json"

    binary, binary_problem, build_rec = None, None, None
    if "zkinfer" in tools:
        if a.zkinfer:
            binary = os.path.abspath(a.zkinfer)
            if not os.access(binary, os.X_OK):
                binary, binary_problem = None, f"--zkinfer {a.zkinfer} is not an executable file"
        elif a.no_build:
            binary = os.path.join(REPO, "target", "release", "zkinfer")
            if not os.access(binary, os.X_OK):
                binary, binary_problem = None, f"{binary} not found (--no-build given)"
        else:
            binary, binary_problem, build_rec = build_zkinfer(a.timeout, os.path.join(work, "build-logs"))
        if binary_problem:
            log(f"zkinfer unavailable: {binary_problem}; its steps are recorded as not run")

    report = {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"), "command": command,
              "machine": machine_info(), "versions": versions(binary), "timeout_s": a.timeout,
              "tools": tools, "zkinfer_binary": binary, "zkinfer_problem": binary_problem, "zkinfer_build": build_rec, "models": [],
              "complete": False, "loadavg_start": round(os.getloadavg()[0], 2)}
    if "ezkl" in tools:
        report["ezkl_import"] = run_step("ezkl_import", [sys.executable, "-c", "import ezkl"],
                                         os.path.join(work, "build-logs"), 300)

    srs = SrsCache(os.path.abspath(a.srs_dir), a.fresh_srs)
    try:
        for name, d in model_dirs:
            log(f"== {name} ({d})")
            onnx_p, in_p = os.path.join(d, "network.onnx"), os.path.join(d, "input.json")
            mr: dict = {"name": name, "dir": d, "params": count_params(onnx_p)}
            ref, ref_err = reference_output(onnx_p, in_p)
            mr["reference_output"] = ref
            if ref_err:
                mr["reference_error"] = ref_err
                log(f"  {ref_err}")
            report["models"].append(mr)
            mr["summary"] = {}
            for tool in tools:
                log(f"-- {tool}")
                tw = os.path.join(work, name, tool)
                too_big = (a.ezkl_max_params is not None and mr["params"] is not None
                           and mr["params"] > a.ezkl_max_params)
                listed = name in [m.strip() for m in a.ezkl_skip.split(",") if m.strip()]
                if tool == "ezkl" and (too_big or listed):
                    why = (f"not run: {mr['params']:,} params > --ezkl-max-params {a.ezkl_max_params:,}"
                           if too_big else "not run: listed in --ezkl-skip")
                    why += " (ezkl 23 needs more memory or time than this machine allows)"
                    log(f"  {why}")
                    mr["ezkl"] = {"steps": {"gen_settings": skipped("gen_settings", why)}}
                elif tool == "ezkl":
                    mr["ezkl"] = run_ezkl(d, tw, a.timeout, srs)
                else:
                    mr["zkinfer"] = run_zkinfer(binary, binary_problem, d, tw, a.timeout,
                                                a.zkinfer_compile_args.split())
                mr["summary"][tool] = summarize(tool, mr[tool], ref)
                if not a.keep_artifacts:
                    # proving keys are large (ezkl: ~280 MB for the smallest MLP)
                    for p in (os.path.join(tw, "pk.key"), os.path.join(tw, "keys", "model.pk")):
                        try:
                            os.remove(p)
                        except OSError:
                            pass
                write_report(report, md_path, json_path)
            if set(tools) == set(TOOLS):
                e, z = mr["summary"]["ezkl"], mr["summary"]["zkinfer"]
                mr["ratios"] = {"prove_time": _ratio(e.get("prove_s"), z.get("prove_s")),
                                "prove_rss": _ratio(e.get("prove_rss_mb"), z.get("prove_rss_mb")),
                                "setup_time": _ratio(e.get("setup_s"), z.get("setup_s")),
                                "verify_time": _ratio(e.get("verify_s"), z.get("verify_s")),
                                "proof_size": _ratio(e.get("proof_bytes"), z.get("proof_bytes"))}
            write_report(report, md_path, json_path)
        report["complete"] = True
        report["loadavg_end"] = round(os.getloadavg()[0], 2)
    except KeyboardInterrupt:
        if _current_child is not None:
            _kill_group(_current_child)
        log("interrupted: writing the partial report")
        report["loadavg_end"] = round(os.getloadavg()[0], 2)
        write_report(report, md_path, json_path)
        return 130
    write_report(report, md_path, json_path)
    log(f"wrote {md_path} and {json_path}")
    print()
    print(open(md_path).read())
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_ezkl-step":
        sys.exit(ezkl_step_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "_rusage":
        sys.exit(rusage_main(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
