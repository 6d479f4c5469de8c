"""Drives `threadstore serve --stdio` through one request per method and prints the README's
captured transcript (>>> sent, <<< received; the first thread object whole, later ones shortened)."""
import json, subprocess, sys, tempfile, time

BIN = sys.argv[1]
data = tempfile.mkdtemp()
p = subprocess.Popen([BIN, "--data", data + "/store", "serve", "--stdio"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
out = []
first_thread = [True]
SHORT = ["id", "name", "preview", "archived", "itemCount", "turnCount", "live", "cwd", "createdAt", "updatedAt", "path", "forkedFromId", "status"]

def shorten_thread(t):
    if first_thread[0]:
        first_thread[0] = False
        return t
    s = {k: t[k] for k in SHORT if k in t and (t[k] is not None or k in ("name",))}
    s["…"] = "…"
    return s

def shorten(v):
    if isinstance(v, dict):
        r = {}
        for k, x in v.items():
            if k == "thread" and isinstance(x, dict) and "preview" in x:
                r[k] = shorten_thread(x)
            elif k == "data" and isinstance(x, list) and x and isinstance(x[0], dict) and "preview" in x[0]:
                r[k] = [shorten_thread(t) for t in x]
            elif k in ("items", "methods") and isinstance(x, list) and len(x) > 4:
                r[k] = x[:2] + [f"… {len(x) - 2} more"]
            elif k in ("lines",) and isinstance(x, list) and len(x) > 2:
                r[k] = x[:2] + [f"… {len(x) - 2} more"]
            else:
                r[k] = shorten(x)
        return r
    if isinstance(v, list):
        return [shorten(x) for x in v]
    return v

NOTIFIES = {"thread/archive", "thread/unarchive", "thread/delete", "thread/name/set", "thread/revert", "thread/fork"}

def send(obj, raw=None, expect=True, notes=0):
    text = raw if raw is not None else json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    shown = text
    if obj and obj.get("method") == "thread/items/append" and len(obj["params"]["items"]) > 2:
        o = json.loads(text)
        o["params"]["items"] = o["params"]["items"][:2] + [f"… {len(o['params']['items']) - 2} more"]
        shown = json.dumps(o, separators=(",", ":"), ensure_ascii=False)
    out.append(">>> " + shown)
    p.stdin.write(text + "\n"); p.stdin.flush()
    got = []
    while True:
        line = p.stdout.readline()
        if not line:
            break
        msg = json.loads(line)
        got.append(msg)
        if "id" in msg:
            break
    # Codex's notification of a change comes right after its answer (one line).
    if obj and obj.get("method") in NOTIFIES and got and "result" in got[-1]:
        got.append(json.loads(p.stdout.readline()))
    for msg in got:
        if "result" in msg:
            msg["result"] = shorten(msg["result"])
        out.append("<<< " + json.dumps(msg, separators=(",", ":"), ensure_ascii=False))
    return next((m for m in reversed(got) if "id" in m), None)

T1 = "019e0000-0000-7000-8000-000000000001"
T2 = "019e0000-0000-7000-8000-000000000002"
T3 = "019e0000-0000-7000-8000-000000000003"
n = [0]
def req(method, params=None):
    n[0] += 1
    o = {"jsonrpc": "2.0", "id": n[0], "method": method}
    if params is not None:
        o["params"] = params
    return send(o)

def ev(payload):
    return {"type": "event_msg", "payload": payload}

req("thread/create", {"threadId": T1, "cwd": "/work/repo", "modelProvider": "openai", "source": "cli", "originator": "codex_cli_rs", "cliVersion": "0.171.0"})
sub = req("feed/subscribe", {"threadIds": [T1], "kinds": ["turnStarted", "turnCompleted"]})["result"]
time.sleep(0.2)
line = p.stdout.readline(); out.append("<<< " + line.strip())
turn = lambda t, q, a: [ev({"type": "task_started", "turn_id": t}), {"type": "turn_context", "payload": {"turn_id": t, "cwd": "/work/repo", "model": "gpt-5", "approval_policy": "on-request", "sandbox_policy": {"type": "workspace-write", "writable_roots": ["/work/repo"], "network_access": False}}}, ev({"type": "user_message", "message": q}), ev({"type": "agent_message", "message": a}), ev({"type": "task_complete", "turn_id": t, "last_agent_message": a})]
req("thread/items/append", {"threadId": T1, "writerEpoch": 1, "expectedPosition": 1, "requestId": "req-1", "items": turn("t1", "Fix the build", "Done: the missing import is back.")})
req("thread/items/append", {"threadId": T1, "writerEpoch": 1, "items": turn("t2", "Now add a test", "Added tests/build.rs.")})
req("thread/flush", {"threadId": T1})
req("thread/persist", {"threadId": T1})
req("thread/turns/list", {"threadId": T1, "limit": 1})
req("thread/items/list", {"threadId": T1, "limit": 2})
req("thread/turns/items/list", {"threadId": T1, "turnId": "t1", "limit": 2})
req("thread/searchOccurrences", {"threadId": T1, "searchTerm": "build"})
req("thread/history/load", {"threadId": T1})
req("thread/fork", {"threadId": T1, "lastTurnId": "t1", "newThreadId": T3, "excludeTurns": True})
req("thread/revert", {"threadId": T1, "beforeTurnId": "t2"})
req("thread/log/load", {"threadId": T1})
req("thread/modelContext/load", {"threadId": T1})
req("thread/resume", {"threadId": T1})
req("thread/name/set", {"threadId": T1, "name": "Build fix"})
req("thread/metadata/update", {"threadId": T1, "gitInfo": {"sha": "4f2a9c1", "branch": "main"}, "agentRole": None})
req("thread/list", {"limit": 1, "sortKey": "updated_at"})
req("thread/search", {"searchTerm": "build"})
req("thread/read", {"threadId": T1})
req("thread/shutdown", {"threadId": T1})
req("thread/resume", {"threadId": T1})
req("thread/discard", {"threadId": T1})
req("thread/items/append", {"threadId": T1, "writerEpoch": 1, "items": [ev({"type": "agent_message", "message": "late"})]})
req("thread/archive", {"threadId": T1})
req("thread/unarchive", {"threadId": T1})
req("thread/create", {"threadId": T2, "rolloutPath": "/home/me/.codex/sessions/2026/11/24/rollout-2026-11-24T10-00-00-" + T2 + ".jsonl", "history": [{"timestamp": "2026-11-24T10:00:00.000Z", "type": "session_meta", "payload": {"id": T2, "timestamp": "2026-11-24T10:00:00.000Z", "cwd": "/work/repo", "originator": "codex_cli_rs", "cli_version": "0.171.0", "source": "cli", "model_provider": "openai"}}]})
req("thread/readByRolloutPath", {"rolloutPath": "/home/me/.codex/sessions/2026/11/24/rollout-2026-11-24T10-00-00-" + T2 + ".jsonl"})
req("thread/delete", {"threadId": T2})
req("feed/unsubscribe", [sub])
req("store/stats", {})
req("server/info")
req("thread/frobnicate", {})
n[0] += 1
send(None, raw='{"jsonrpc":"2.0","id":%d,' % n[0])
p.stdin.close()
p.wait(timeout=30)
print("\n".join(out))
