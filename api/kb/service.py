"""The one door to the live knowledge base: curators' changes, publishing, releases, the scheduler.

A change that alters what residents read (publish, rollback, archive, synonyms, an import with
--publish) builds a new release off the chat path — only changed phrasings are embedded — and swaps
it in whole, then records it in the database. Other api processes notice the new release id within
seconds and load the same index from disk. Rasa is never retrained for content.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from api.db import Database
from api.db.models import utcnow
from api.kb.excel import SHEET, ImportRefused, export_workbook, read_workbook
from api.kb.regression import CheckQuestion, compare, evaluation_questions
from api.kb.release import BuiltRelease, build_release, make_store, reference_problems, topic_titles
from api.kb.store import Actor, KbError, KnowledgeStore, VersionView
from api.kinds import VersionOrigin
from api.knowledge import Knowledge
from api.settings import Settings
from faq.store import CountyProfile, Entry, FaqStore

log = logging.getLogger("minwon.kb")


class KnowledgeService:
    def __init__(self, settings: Settings, db: Database, knowledge: Knowledge) -> None:
        self.settings = settings
        self.store = KnowledgeStore(db)
        self.knowledge = knowledge
        self._titles: dict[str, str] | None = None
        self._build_lock = asyncio.Lock()

    # ---- start-up and releases ----
    def titles(self) -> dict[str, str]:
        if self._titles is None:
            self._titles = topic_titles()
        return self._titles

    def baseline_entries(self) -> list[Entry]:
        return FaqStore.load(county_file=self.settings.county_file).entries

    async def start(self) -> None:
        """First start imports the shipped pack; every start answers from the latest release."""
        try:
            counts = await asyncio.to_thread(
                self.store.import_baseline, self.baseline_entries(), Actor.operator("system")
            )
            if counts["added"] or counts["updated"] or counts["flagged"]:
                log.info("content pack imported: %s", counts)
            await self.refresh("start-up", "system", record=counts["added"] > 0 or counts["updated"] > 0)
        except Exception as exc:
            log.exception("the knowledge base failed to load")
            self.knowledge.failed(f"{type(exc).__name__}: {exc}")

    def staged_store(self, extra: list[Entry] | None = None, synonyms: dict[str, str] | None = None) -> FaqStore:
        """The published content, optionally with candidate versions in place of their published ones."""
        entries = {e.id: e for e in self.store.published_entries()}
        for entry in extra or []:
            entries[entry.id] = entry
        table = self.store.synonyms() if synonyms is None else synonyms
        return make_store(self.settings, sorted(entries.values(), key=lambda e: e.id), table, self.titles())

    def _build(self, store: FaqStore, progress: Callable[[str], None]) -> BuiltRelease:
        return build_release(self.settings, store, self.knowledge.embedder(), progress)

    async def refresh(self, reason: str, actor: str, record: bool = True) -> BuiltRelease:
        """Build the release for what is published now and swap it in (serialised within the process)."""
        async with self._build_lock:
            store = await asyncio.to_thread(self.staged_store)
            built = await asyncio.to_thread(self._build, store, lambda line: log.info("%s", line))
            release_id = None
            if record:
                release_id = await asyncio.to_thread(
                    self.store.record_release, built.key, len(store.entries), reason, actor
                )
            else:
                latest = await asyncio.to_thread(self.store.latest_release)
                release_id = latest.id if latest else None
            self.knowledge.swap(built.retriever, release_id, self._info(built, len(store.entries), release_id))
            log.info(
                "knowledge release %s live: %s entries, %.1f s (%s)",
                release_id,
                len(store.entries),
                built.seconds,
                reason,
            )
            return built

    @staticmethod
    def _info(built: BuiltRelease, entries: int, release_id: int | None) -> dict[str, Any]:
        meta = dict(built.retriever.index.meta)
        meta.update({"release": release_id, "entries": entries, "key": built.key})
        return meta

    async def follow_releases(self) -> None:
        """Another process published: load its release (the index is on disk already, or built here)."""
        latest = await asyncio.to_thread(self.store.latest_release)
        if latest is not None and latest.id != self.knowledge.release_id:
            await self.refresh(f"release {latest.id} from another process", "system", record=False)

    async def run_scheduler(self, every: float = 10.0) -> None:
        """Publish approved versions whose time has come; follow releases made by other processes."""
        while True:
            try:
                await self.publish_due()
                await self.follow_releases()
            except Exception:  # a database hiccup must not stop publishing for good
                log.exception("knowledge scheduler failed")
            await asyncio.sleep(every)

    async def publish_due(self, now: datetime | None = None) -> list[str]:
        done = await asyncio.to_thread(self.store.publish_due, now)
        if done:
            await self.refresh(f"scheduled publish {', '.join(done)}", "system")
        return done

    # ---- curators' changes (each goes through the store's permission checks) ----
    def validate(self, entry: Entry) -> None:
        """Refuse content that would not render (unknown department, unknown {keys})."""
        make_store(self.settings, [entry], {}, self.titles())

    async def save_draft(
        self, entry_id: str, content: dict[str, Any], based_on: int | None, actor: Actor, comment: str = ""
    ) -> VersionView:
        self.validate(Entry.model_validate(content))
        return await asyncio.to_thread(self.store.save_draft, entry_id, content, based_on, actor, comment)

    async def create_entry(self, topic: str, content: dict[str, Any], actor: Actor) -> VersionView:
        """A new county entry as a draft (validated as it would render)."""
        if topic not in self.titles():
            raise KbError(f"없는 주제입니다: {topic or '(비어 있음)'}")
        self.validate(Entry.model_validate({**content, "id": f"C{topic[1:]}-000", "topic": topic}))
        return await asyncio.to_thread(self.store.create_entry, topic, content, actor, VersionOrigin.COUNTY)

    async def submit(self, entry_id: str, number: int, actor: Actor) -> VersionView:
        return await asyncio.to_thread(self.store.submit, entry_id, number, actor)

    async def review(
        self,
        entry_id: str,
        number: int,
        actor: Actor,
        approve: bool,
        comment: str = "",
        publish_at: datetime | None = None,
    ) -> VersionView:
        version = await asyncio.to_thread(self.store.review, entry_id, number, actor, approve, comment, publish_at)
        if approve:
            await self.publish_due()
        return version

    async def publish_now(self, entry_id: str, number: int, actor: Actor) -> VersionView:
        version = await asyncio.to_thread(self.store.publish_now, entry_id, number, actor)
        await self.refresh(f"publish {entry_id}:v{number}", actor.username)
        return version

    async def restore(self, entry_id: str, number: int, actor: Actor) -> VersionView:
        return await asyncio.to_thread(self.store.restore, entry_id, number, actor)

    async def rollback(self, entry_id: str, to: int | None, actor: Actor) -> VersionView:
        version = await asyncio.to_thread(self.store.rollback, entry_id, to, actor)
        await self.refresh(f"rollback {entry_id} to v{to or 'previous'}", actor.username)
        return version

    async def set_archived(self, entry_id: str, archived: bool, actor: Actor) -> None:
        await asyncio.to_thread(self.store.set_archived, entry_id, archived, actor)
        await self.refresh(f"{'archive' if archived else 'unarchive'} {entry_id}", actor.username)

    async def set_synonym(self, variant: str, canonical: str, actor: Actor) -> None:
        await asyncio.to_thread(self.store.set_synonym, variant, canonical, actor)
        await self.refresh(f"synonym {variant}", actor.username)

    async def export_xlsx(self, path: Path) -> int:
        rows = await asyncio.to_thread(self.store.export_rows)
        return await asyncio.to_thread(export_workbook, rows, path)

    async def import_xlsx(self, data: bytes, actor: Actor, publish: bool) -> dict[str, int]:
        """All or nothing: ImportRefused (sheet, row, column) leaves the knowledge base as it was."""
        versions, departments = await asyncio.to_thread(self.store.versions_by_entry)
        profile = CountyProfile.load(self.settings.county_file)
        parsed = await asyncio.to_thread(read_workbook, data, profile, versions, departments)
        checker = make_store(self.settings, [], {}, self.titles())
        problems: list[str] = []
        for row in parsed.rows:
            entry = Entry.model_validate(row.content)
            problems.extend(f"{SHEET} 시트 {row.row}행: {p}" for p in reference_problems(checker, entry))
        if problems:
            raise ImportRefused(problems)
        counts = await asyncio.to_thread(
            self.store.apply_import, [(r.entry_id, r.topic, r.content) for r in parsed.rows], actor, publish
        )
        if publish and (counts["new"] or counts["changed"]):
            await self.refresh(f"Excel import by {actor.username}", actor.username)
        return counts

    async def import_yaml(self, actor: Actor) -> dict[str, int]:
        counts = await asyncio.to_thread(self.store.import_baseline, self.baseline_entries(), actor)
        if counts["added"] or counts["updated"]:
            await self.refresh("content pack import", actor.username)
        return counts

    # ---- check before publishing ----
    async def check(self, entry_id: str, number: int, actor: Actor) -> dict[str, Any]:
        """Ask the regression questions of the release with this version in place; store the result on it."""
        current = self.knowledge.current()
        if current is None:
            raise KbError("지식 베이스를 아직 불러오지 못해 비교할 수 없습니다. 잠시 후 다시 시도해 주세요.")
        version = await asyncio.to_thread(self.store.version, entry_id, number)
        if version is None:
            raise KbError(f"없는 버전입니다: {entry_id} v{number}")
        await asyncio.to_thread(self.store.set_check, entry_id, number, {"status": "running", "done": 0, "total": 0})

        def run() -> dict[str, Any]:
            staged = self._build(self.staged_store(extra=[version.entry]), lambda line: None).retriever
            golden = [CheckQuestion(g.question, "golden", g.entry_id) for g in self.store.golden_questions()]
            questions = golden + evaluation_questions()

            def progress(done: int, total: int) -> None:
                self.store.set_check(entry_id, number, {"status": "running", "done": done, "total": total})

            result = compare(current, staged, questions, self.knowledge.embedder(), progress)
            return {"status": "done", "by": actor.username, "at": utcnow().isoformat(), **result}

        try:
            result = await asyncio.to_thread(run)
        except Exception as exc:
            result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            await asyncio.to_thread(self.store.set_check, entry_id, number, result)
            raise
        await asyncio.to_thread(self.store.set_check, entry_id, number, result)
        return result

    async def delete_synonym(self, variant: str, actor: Actor) -> None:
        await asyncio.to_thread(self.store.delete_synonym, variant, actor)
        await self.refresh(f"synonym {variant} removed", actor.username)
