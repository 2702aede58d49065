"""A fresh process that runs Python watchfiles for the parent (benchmark/run.mjs).

Same protocol as node-worker.mjs: JSON lines in on stdin, `@@`-prefixed JSON lines out on
stdout, CLOCK_MONOTONIC nanoseconds (time.monotonic_ns is the same clock as Node's hrtime).

It drives watchfiles the way `watchfiles.watch()` does: a RustNotify over the folder, then
`RustNotify.watch(debounce, step, rust_timeout=5000, stop_event)` in a loop, each batch passed
through `DefaultFilter` (watchfiles' default; it filters events, it does not prune the walk).
RustNotify's constructor returns once notify has placed every watch: that is "ready".
"""
import json
import sys
import threading
import time

import watchfiles
from watchfiles import DefaultFilter
from watchfiles._rust_notify import RustNotify

out_lock = threading.Lock()


def send(msg):
    with out_lock:
        sys.stdout.write('@@' + json.dumps(msg) + '\n')
        sys.stdout.flush()


state = {
    'notify': None,
    'thread': None,
    'stop': threading.Event(),
    'events': 0,
    'waiting': None,  # (path, threading.Event, [t])
    'tracking': None,  # dict(prefix, suffix, seen, first, last)
}
state_lock = threading.Lock()


def on_paths(paths, t):
    with state_lock:
        state['events'] += len(paths)
        waiting = state['waiting']
        if waiting is not None and waiting[0] in paths:
            waiting[2].append(t)
            waiting[1].set()
            state['waiting'] = None
        tr = state['tracking']
        if tr is not None:
            for p in paths:
                if p.startswith(tr['prefix']) and p.endswith(tr['suffix']) and p not in tr['seen']:
                    tr['seen'].add(p)
                    tr['last'] = t
                    if tr['first'] is None:
                        tr['first'] = t


def loop(notify, debounce, step):
    flt = DefaultFilter()
    while not state['stop'].is_set():
        raw = notify.watch(debounce, step, 5000, state['stop'])
        t = time.monotonic_ns()
        if raw in ('stop', 'signal'):
            return
        if raw == 'timeout':
            continue
        paths = [p for change, p in raw if flt(watchfiles.Change(change), p)]
        if paths:
            on_paths(paths, t)


def cmd_start(msg):
    opts = msg.get('options') or {}
    t0 = time.monotonic_ns()
    notify = RustNotify([msg['root']], False, bool(opts.get('force_polling', False)),
                        int(opts.get('poll_delay_ms', 300)), True, False)
    t1 = time.monotonic_ns()
    state['notify'] = notify
    th = threading.Thread(target=loop, args=(notify, int(opts.get('debounce', 1600)), int(opts.get('step', 50))),
                          daemon=True)
    th.start()
    state['thread'] = th
    return {'readyMs': (t1 - t0) / 1e6, 'startNs': str(t0), 'readyNs': str(t1)}


def cmd_latency(msg):
    files, n, gap, timeout = msg['files'], msg['n'], msg['gapMs'], msg['timeoutMs']
    samples, missed = [], 0
    for i in range(n):
        time.sleep(gap / 1000)
        f = files[i % len(files)]
        ev = threading.Event()
        got = []
        with state_lock:
            state['waiting'] = (f, ev, got)
        t0 = time.monotonic_ns()
        with open(f, 'w') as fh:
            fh.write('export const sample = %d\n' % i)
        if ev.wait(timeout / 1000) and got:
            samples.append((got[0] - t0) / 1e6)
        else:
            missed += 1
        with state_lock:
            state['waiting'] = None
    return {'samples': samples, 'missed': missed}


def cmd_track(msg):
    with state_lock:
        state['tracking'] = {'prefix': msg['prefix'], 'suffix': msg.get('suffix') or '', 'seen': set(),
                             'first': None, 'last': None}
    return {}


def cmd_stats(msg):
    with state_lock:
        tr = state['tracking']
        return {
            'events': state['events'],
            'count': len(tr['seen']) if tr else 0,
            'firstNs': str(tr['first']) if tr and tr['first'] is not None else None,
            'lastNs': str(tr['last']) if tr and tr['last'] is not None else None,
        }


def cmd_close(msg):
    t0 = time.monotonic_ns()
    state['stop'].set()
    if state['thread'] is not None:
        state['thread'].join(10)
    if state['notify'] is not None:
        state['notify'].close()
    return {'closeMs': (time.monotonic_ns() - t0) / 1e6}


COMMANDS = {'start': cmd_start, 'latency': cmd_latency, 'track': cmd_track, 'stats': cmd_stats, 'close': cmd_close}


def main():
    import os
    send({'type': 'loaded', 'version': watchfiles.__version__, 'pid': os.getpid()})
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            result = COMMANDS[msg['cmd']](msg)
            send({'type': 'reply', 'id': msg.get('id'), **result})
        except Exception as e:  # noqa: BLE001 - reported to the parent
            send({'type': 'reply', 'id': msg.get('id'), 'error': repr(e)})
        if msg['cmd'] == 'close':
            break
    os._exit(0)


if __name__ == '__main__':
    main()
