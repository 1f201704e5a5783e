#!/usr/bin/python3
# kubelab's runc wrapper, installed by `kubelab doctor --fix` only on hosts whose capability
# bounding set lacks CAP_SYS_RESOURCE: Docker grants privileged containers every capability it
# knows, runc then fails with "unable to apply caps". This drops CAP_SYS_RESOURCE from the
# container's config (create/run: --bundle) and from exec'd processes (exec: --process), then
# becomes the real runc.
import json, os, sys

REAL_RUNC = os.environ.get("KUBELAB_REAL_RUNC", "@REAL_RUNC@")
DROP = "CAP_SYS_RESOURCE"


def value_after(args, names):
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def strip_caps(capabilities):
    if isinstance(capabilities, dict):
        for key, caps in capabilities.items():
            if isinstance(caps, list):
                capabilities[key] = [c for c in caps if c != DROP]


def rewrite(path, process_only):
    with open(path) as f:
        spec = json.load(f)
    strip_caps((spec if process_only else spec.get("process", {})).get("capabilities"))
    tmp = path + ".kubelab"
    with open(tmp, "w") as f:
        json.dump(spec, f)
    os.rename(tmp, path)


args = sys.argv[1:]
command = next((a for a in args if not a.startswith("-") and a in ("create", "run", "exec")), None)
if command in ("create", "run"):
    bundle = value_after(args, ["--bundle", "-b"]) or "."
    rewrite(os.path.join(bundle, "config.json"), False)
elif command == "exec":
    process = value_after(args, ["--process", "-p"])
    if process:
        rewrite(process, True)
os.execv(REAL_RUNC, [REAL_RUNC] + args)
