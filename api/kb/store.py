"""The live knowledge base in the database: entries, immutable versions, review, publishing, audit.

Synchronous (SQLAlchemy sessions are thread-bound); ``KnowledgeService`` runs these in worker threads.
Every change is one transaction and is written to the audit log with who did it and which versions
it went from and to. Permissions are checked here, not in the routes: a curator edits and approves
entries of their own department, an admin every entry, and nobody approves their own version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import Database
from api.db.models import AuditEntry, KbEntry, KbGoldenQuestion, KbRelease, KbSynonym, KbVersion, User, utcnow
from api.kinds import OPEN_VERSION_STATES, Role, VersionOrigin, VersionStatus
from faq.store import Entry

# Topic files and county entries share one id space; county-created entries get a C prefix.
COUNTY_TOPIC_PREFIX = "C"


class KbError(Exception):
    """A request the knowledge base refuses; the message is shown to staff as is (Korean)."""


class KbConflict(KbError):
    """Someone saved a newer version while this editor was working; nothing was written."""

    def __init__(self, entry_id: str, latest: int, based_on: int | None) -> None:
        super().__init__(
            f"{entry_id}: 편집을 시작한 뒤 다른 사용자가 새 버전(v{latest})을 저장했습니다. "
            f"입력하신 내용은 아래에 그대로 남아 있으니, 최신 버전과 비교한 뒤 다시 저장해 주세요."
        )
        self.entry_id, self.latest, self.based_on = entry_id, latest, based_on


class KbForbidden(KbError):
    pass


def content_of(entry: Entry) -> dict[str, Any]:
    """An entry as a version's content (JSON-safe, complete: topic, department and subject resolved)."""
    data: dict[str, Any] = entry.model_dump(mode="json")
    return data


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def entry_from(content: dict[str, Any]) -> Entry:
    return Entry.model_validate(content)


@dataclass(frozen=True)
class Actor:
    """Who is changing the knowledge base: a console user, or the CLI/system (admin rights)."""

    username: str
    role: Role
    department: str | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.username, Role(user.role), user.department)

    @classmethod
    def operator(cls, name: str = "cli") -> Actor:
        return cls(name, Role.ADMIN, None)

    def may_edit(self, department: str) -> bool:
        return self.role is Role.ADMIN or (self.role is Role.CURATOR and self.department == department)


@dataclass
class VersionView:
    entry_id: str
    number: int
    status: VersionStatus
    origin: VersionOrigin
    author: str
    created_at: datetime
    content: dict[str, Any]
    comment: str = ""
    reviewed_by: str | None = None
    publish_at: datetime | None = None
    published_at: datetime | None = None

    @property
    def entry(self) -> Entry:
        return entry_from(self.content)


@dataclass
class EntryRow:
    """One line of the curator's list."""

    id: str
    topic: str
    department: str
    question: str
    published_version: int | None
    latest_version: int
    open_status: VersionStatus | None  # the newest draft / in_review / approved version's status
    archived: bool
    review_by: dt.date | None
    expires: dt.date | None
    baseline_changed: bool


def _view(version: KbVersion) -> VersionView:
    return VersionView(
        entry_id=version.entry_id,
        number=version.number,
        status=VersionStatus(version.status),
        origin=VersionOrigin(version.origin),
        author=version.author,
        created_at=version.created_at,
        content=version.content,
        comment=version.comment,
        reviewed_by=version.reviewed_by,
        publish_at=version.publish_at,
        published_at=version.published_at,
    )


class KnowledgeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- reading ----
    def is_empty(self) -> bool:
        with self.db.session() as session:
            return not session.scalar(select(func.count()).select_from(KbEntry))

    def published_entries(self) -> list[Entry]:
        """What residents are answered from: every entry's published version, archived ones left out."""
        with self.db.session() as session:
            rows = session.execute(
                select(KbVersion.content)
                .join(KbEntry, KbEntry.id == KbVersion.entry_id)
                .where(KbEntry.archived.is_(False), KbVersion.number == KbEntry.published_version)
                .order_by(KbEntry.id)
            ).all()
            return [entry_from(content) for (content,) in rows]

    def synonyms(self) -> dict[str, str]:
        with self.db.session() as session:
            return {s.variant: s.canonical for s in session.scalars(select(KbSynonym).order_by(KbSynonym.variant))}

    def version(self, entry_id: str, number: int | None = None) -> VersionView | None:
        """A given version, or the entry's newest one."""
        with self.db.session() as session:
            query = select(KbVersion).where(KbVersion.entry_id == entry_id)
            query = query.where(KbVersion.number == number) if number else query.order_by(KbVersion.number.desc())
            found = session.scalars(query.limit(1)).first()
            return _view(found) if found else None

    def published(self, entry_id: str) -> VersionView | None:
        with self.db.session() as session:
            entry = session.get(KbEntry, entry_id)
            if entry is None or entry.published_version is None:
                return None
            found = session.scalar(
                select(KbVersion).where(KbVersion.entry_id == entry_id, KbVersion.number == entry.published_version)
            )
            return _view(found) if found else None

    def history(self, entry_id: str) -> list[VersionView]:
        with self.db.session() as session:
            versions = session.scalars(
                select(KbVersion).where(KbVersion.entry_id == entry_id).order_by(KbVersion.number.desc())
            )
            return [_view(v) for v in versions]

    def entry_state(self, entry_id: str) -> KbEntry | None:
        with self.db.session() as session:
            return session.get(KbEntry, entry_id)

    def search(
        self,
        text: str = "",
        topic: str = "",
        department: str = "",
        status: str = "",
        overdue_on: dt.date | None = None,
        limit: int = 500,
    ) -> list[EntryRow]:
        """The curator's list: free text over questions and answers, and filters."""
        with self.db.session() as session:
            latest = (
                select(KbVersion.entry_id, func.max(KbVersion.number).label("number"))
                .group_by(KbVersion.entry_id)
                .subquery()
            )
            query = (
                select(KbEntry, KbVersion)
                .join(latest, latest.c.entry_id == KbEntry.id)
                .join(KbVersion, (KbVersion.entry_id == KbEntry.id) & (KbVersion.number == latest.c.number))
                .order_by(KbEntry.id)
            )
            if topic:
                query = query.where(KbEntry.topic == topic)
            if department:
                query = query.where(KbEntry.department == department)
            rows: list[EntryRow] = []
            needle = text.strip().lower()
            for entry, newest in session.execute(query).all():
                content = newest.content
                if needle and needle not in json.dumps(content, ensure_ascii=False).lower():
                    continue
                open_status = VersionStatus(newest.status) if newest.status in OPEN_VERSION_STATES else None
                review_by = _date(content.get("review_by"))
                row = EntryRow(
                    id=entry.id,
                    topic=entry.topic,
                    department=entry.department,
                    question=str(content.get("question", "")),
                    published_version=entry.published_version,
                    latest_version=entry.latest_version,
                    open_status=open_status,
                    archived=entry.archived,
                    review_by=review_by,
                    expires=_date(content.get("expires")),
                    baseline_changed=entry.baseline_pending is not None,
                )
                if status == "archived" and not row.archived:
                    continue
                if (
                    status
                    and status not in ("archived", "baseline_changed")
                    and ((row.open_status or ("published" if row.published_version else "")) != status)
                ):
                    continue
                if status == "baseline_changed" and not row.baseline_changed:
                    continue
                if overdue_on is not None and not (row.review_by and row.review_by < overdue_on):
                    continue
                rows.append(row)
                if len(rows) >= limit:
                    break
            return rows

    def review_queue(self) -> list[VersionView]:
        with self.db.session() as session:
            versions = session.scalars(
                select(KbVersion)
                .where(KbVersion.status.in_([VersionStatus.IN_REVIEW, VersionStatus.APPROVED]))
                .order_by(KbVersion.submitted_at)
            )
            return [_view(v) for v in versions]

    # ---- baseline content pack ----
    def import_baseline(self, entries: list[Entry], actor: Actor) -> dict[str, int]:
        """Bring the shipped pack in: new entries are published; entries the county never edited follow
        the pack; entries the county edited are flagged "baseline changed" for a curator, never overwritten."""
        counts = {"added": 0, "updated": 0, "flagged": 0, "unchanged": 0}
        with self.db.session() as session:
            for entry in entries:
                content = content_of(entry)
                digest = content_hash(content)
                row = session.get(KbEntry, entry.id)
                if row is None:
                    row = KbEntry(
                        id=entry.id,
                        topic=entry.topic,
                        department=entry.department,
                        archived=False,
                        latest_version=0,
                        county_edited=False,
                        baseline_hash=digest,
                    )
                    session.add(row)
                    session.flush()
                    self._publish_new(session, row, content, VersionOrigin.BASELINE, actor, "기본 콘텐츠 팩")
                    counts["added"] += 1
                elif row.baseline_hash == digest:
                    counts["unchanged"] += 1
                elif not row.county_edited:
                    row.baseline_hash, row.baseline_pending = digest, None
                    self._publish_new(session, row, content, VersionOrigin.BASELINE, actor, "기본 콘텐츠 팩 갱신")
                    counts["updated"] += 1
                elif (row.baseline_pending or {}).get("hash") != digest:
                    row.baseline_pending = {"hash": digest, "content": content}
                    self._audit(session, actor, "kb.baseline_changed", entry.id, "pack changed a county-edited entry")
                    counts["flagged"] += 1
                else:
                    counts["unchanged"] += 1
            self._audit(session, actor, "kb.import_baseline", "", json.dumps(counts))
        return counts

    def resolve_baseline(self, entry_id: str, accept: bool, actor: Actor) -> VersionView | None:
        """A curator's decision on a flagged entry: take the pack's version as a draft, or keep the county's."""
        with self.db.session() as session:
            row = self._entry(session, entry_id)
            self._require_edit(actor, row.department)
            pending = row.baseline_pending
            if pending is None:
                raise KbError(f"{entry_id}: 기본 콘텐츠 팩에서 바뀐 내용이 없습니다.")
            row.baseline_hash, row.baseline_pending = pending["hash"], None
            if not accept:
                self._audit(session, actor, "kb.baseline_kept", entry_id, "kept the county version")
                return None
            version = self._new_version(
                session, row, pending["content"], VersionOrigin.BASELINE, actor, row.latest_version, "기본 팩 반영"
            )
            self._audit(session, actor, "kb.baseline_taken", entry_id, f"v{version.number} draft from the pack")
            return _view(version)

    # ---- editing and review ----
    def save_draft(
        self, entry_id: str, content: dict[str, Any], based_on: int | None, actor: Actor, comment: str = ""
    ) -> VersionView:
        """Save an edit as a new draft version. ``based_on`` is the version the editor opened: if a newer
        one exists, KbConflict (nothing written)."""
        entry = entry_from(content)  # validates every field
        if entry.id != entry_id:
            raise KbError(f"id를 바꿀 수 없습니다: {entry_id} → {entry.id}")
        with self.db.session() as session:
            row = session.get(KbEntry, entry_id)
            if row is None:
                raise KbError(f"없는 항목입니다: {entry_id}")
            self._require_edit(actor, row.department)
            if entry.department != row.department:
                self._require_edit(actor, entry.department)
            if based_on is not None and row.latest_version != based_on:
                raise KbConflict(entry_id, row.latest_version, based_on)
            version = self._new_version(session, row, content_of(entry), VersionOrigin.COUNTY, actor, based_on, comment)
            row.department = entry.department
            return _view(version)

    def create_entry(self, topic: str, content: dict[str, Any], actor: Actor, origin: VersionOrigin) -> VersionView:
        """A new county entry (id C<topic digits>-NNN) as a draft."""
        with self.db.session() as session:
            entry_id = self._next_id(session, topic)
            content = {**content, "id": entry_id, "topic": topic}
            entry = entry_from(content)
            self._require_edit(actor, entry.department)
            row = KbEntry(
                id=entry_id,
                topic=topic,
                department=entry.department,
                archived=False,
                latest_version=0,
                county_edited=True,
            )
            session.add(row)
            session.flush()
            version = self._new_version(session, row, content_of(entry), origin, actor, 0, "새 항목")
            return _view(version)

    def submit(self, entry_id: str, number: int, actor: Actor) -> VersionView:
        with self.db.session() as session:
            row = self._entry(session, entry_id)
            self._require_edit(actor, row.department)
            version = self._version(session, entry_id, number)
            if version.status != VersionStatus.DRAFT:
                raise KbError(f"{entry_id} v{number}: 초안만 검토 요청할 수 있습니다 (지금: {version.status}).")
            version.status, version.submitted_at = VersionStatus.IN_REVIEW, utcnow()
            self._audit(session, actor, "kb.submit", f"{entry_id}:v{number}")
            return _view(version)

    def review(
        self,
        entry_id: str,
        number: int,
        actor: Actor,
        approve: bool,
        comment: str = "",
        publish_at: datetime | None = None,
    ) -> VersionView:
        """Approve (to publish now, or at ``publish_at``) or reject a version in review. Not one's own."""
        with self.db.session() as session:
            row = self._entry(session, entry_id)
            self._require_edit(actor, row.department)
            version = self._version(session, entry_id, number)
            if version.status != VersionStatus.IN_REVIEW:
                raise KbError(f"{entry_id} v{number}: 검토 중인 버전이 아닙니다 (지금: {version.status}).")
            if version.author == actor.username:
                raise KbForbidden("자신이 작성한 버전은 다른 담당자가 승인해야 합니다.")
            version.reviewed_by, version.reviewed_at, version.comment = actor.username, utcnow(), comment
            if not approve:
                version.status = VersionStatus.REJECTED
                self._audit(session, actor, "kb.reject", f"{entry_id}:v{number}", comment)
                return _view(version)
            version.status, version.publish_at = VersionStatus.APPROVED, publish_at or utcnow()
            self._audit(
                session, actor, "kb.approve", f"{entry_id}:v{number}", f"publish at {version.publish_at.isoformat()}"
            )
            return _view(version)

    def publish_due(self, now: datetime | None = None) -> list[str]:
        """Publish every approved version whose time has come; returns ``entry:vN`` labels."""
        now = now or utcnow()
        done: list[str] = []
        with self.db.session() as session:
            due = session.scalars(
                select(KbVersion)
                .where(KbVersion.status == VersionStatus.APPROVED, KbVersion.publish_at <= now)
                .order_by(KbVersion.publish_at)
            ).all()
            for version in due:
                row = self._entry(session, version.entry_id)
                self._make_published(session, row, version)
                self._audit(session, Actor.operator("system"), "kb.publish", f"{row.id}:v{version.number}")
                done.append(f"{row.id}:v{version.number}")
        return done

    def publish_now(self, entry_id: str, number: int, actor: Actor) -> VersionView:
        """An admin (or the CLI) publishes a version directly (imports with --publish, emergencies)."""
        if actor.role is not Role.ADMIN:
            raise KbForbidden("검토 없이 바로 공개는 관리자만 할 수 있습니다.")
        with self.db.session() as session:
            row = self._entry(session, entry_id)
            version = self._version(session, entry_id, number)
            self._make_published(session, row, version)
            self._audit(session, actor, "kb.publish", f"{entry_id}:v{number}", "direct")
            return _view(version)

    def restore(self, entry_id: str, number: int, actor: Actor) -> VersionView:
        """One-click restore: an old version's content as a new draft (it goes through review again)."""
        with self.db.session() as session:
            row = self._entry(session, entry_id)
            self._require_edit(actor, row.department)
            old = self._version(session, entry_id, number)
            version = self._new_version(
                session, row, dict(old.content), VersionOrigin.ROLLBACK, actor, row.latest_version, f"v{number} 복원"
            )
            return _view(version)

    def rollback(self, entry_id: str, to: int | None, actor: Actor) -> VersionView:
        """Publish the previous (or a given) published version again, as a new version (operator command)."""
        with self.db.session() as session:
            row = self._entry(session, entry_id)
            if to is None:
                earlier = session.scalars(
                    select(KbVersion)
                    .where(
                        KbVersion.entry_id == entry_id,
                        KbVersion.published_at.is_not(None),
                        KbVersion.number != (row.published_version or 0),
                    )
                    .order_by(KbVersion.number.desc())
                    .limit(1)
                ).first()
                if earlier is None:
                    raise KbError(f"{entry_id}: 되돌릴 이전 공개 버전이 없습니다.")
                to = earlier.number
            old = self._version(session, entry_id, to)
            version = self._new_version(
                session, row, dict(old.content), VersionOrigin.ROLLBACK, actor, row.latest_version, f"v{to}로 되돌림"
            )
            self._make_published(session, row, version)
            self._audit(session, actor, "kb.rollback", f"{entry_id}:v{version.number}", f"content of v{to}")
            return _view(version)

    def set_archived(self, entry_id: str, archived: bool, actor: Actor) -> None:
        with self.db.session() as session:
            row = self._entry(session, entry_id)
            self._require_edit(actor, row.department)
            row.archived, row.updated_at = archived, utcnow()
            self._audit(session, actor, "kb.archive" if archived else "kb.unarchive", entry_id)

    # ---- Excel ----
    def export_rows(self) -> list[tuple[dict[str, Any], str, int]]:
        """Every entry's newest version (what a curator would edit next), with its status and number."""
        with self.db.session() as session:
            latest = (
                select(KbVersion.entry_id, func.max(KbVersion.number).label("number"))
                .group_by(KbVersion.entry_id)
                .subquery()
            )
            rows = session.execute(
                select(KbEntry, KbVersion)
                .join(latest, latest.c.entry_id == KbEntry.id)
                .join(KbVersion, (KbVersion.entry_id == KbEntry.id) & (KbVersion.number == latest.c.number))
                .order_by(KbEntry.id)
            ).all()
            out = []
            for entry, version in rows:
                status = "archived" if entry.archived else version.status
                out.append((version.content, status, version.number))
            return out

    def versions_by_entry(self) -> tuple[dict[str, int], dict[str, str]]:
        with self.db.session() as session:
            rows = session.execute(select(KbEntry.id, KbEntry.latest_version, KbEntry.department)).all()
            return {r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows}

    def apply_import(self, rows: list[tuple[str, str, dict[str, Any]]], actor: Actor, publish: bool) -> dict[str, int]:
        """All rows in one transaction: changed entries get a new version (in review, or published)."""
        if publish and actor.role is not Role.ADMIN:
            raise KbForbidden("가져온 내용을 검토 없이 바로 공개하는 것은 관리자만 할 수 있습니다.")
        counts = {"new": 0, "changed": 0, "unchanged": 0}
        with self.db.session() as session:
            entries = {e.id: e for e in session.scalars(select(KbEntry))}
            latest: dict[str, dict[str, Any]] = dict(
                session.execute(
                    select(KbVersion.entry_id, KbVersion.content).join(
                        KbEntry, (KbEntry.id == KbVersion.entry_id) & (KbVersion.number == KbEntry.latest_version)
                    )
                ).all()
            )
            for entry_id, topic, content in rows:
                if entry_id:
                    if entry_id not in entries:
                        raise KbError(f"없는 항목입니다: {entry_id}")
                    row = entries[entry_id]
                    self._require_edit(actor, row.department)
                    current = latest.get(entry_id)
                    normal = content_of(entry_from({**content, "id": entry_id, "topic": row.topic}))
                    if current == normal:
                        counts["unchanged"] += 1
                        continue
                    version = self._new_version(
                        session, row, normal, VersionOrigin.IMPORT, actor, row.latest_version, "엑셀 가져오기"
                    )
                    counts["changed"] += 1
                else:
                    new_id = self._next_id(session, topic)
                    normal = content_of(entry_from({**content, "id": new_id, "topic": topic}))
                    self._require_edit(actor, normal["department"])
                    row = KbEntry(
                        id=new_id,
                        topic=topic,
                        department=normal["department"],
                        archived=False,
                        latest_version=0,
                        county_edited=True,
                    )
                    session.add(row)
                    session.flush()
                    version = self._new_version(session, row, normal, VersionOrigin.IMPORT, actor, 0, "엑셀 가져오기")
                    counts["new"] += 1
                if publish:
                    self._make_published(session, row, version)
                else:
                    version.status, version.submitted_at = VersionStatus.IN_REVIEW, utcnow()
            self._audit(session, actor, "kb.import_xlsx", "", json.dumps({**counts, "publish": publish}))
        return counts

    # ---- synonyms and golden questions ----
    def set_synonym(self, variant: str, canonical: str, actor: Actor) -> None:
        variant, canonical = variant.strip(), canonical.strip()
        if not variant or not canonical or variant == canonical:
            raise KbError("바꿀 말과 FAQ에서 쓰는 말을 모두, 서로 다르게 입력해 주세요.")
        if len(variant) > 64 or len(canonical) > 64:
            raise KbError("용어는 64자 이내로 입력해 주세요.")
        if actor.role not in (Role.ADMIN, Role.CURATOR):
            raise KbForbidden("용어는 큐레이터와 관리자만 바꿀 수 있습니다.")
        with self.db.session() as session:
            row = session.scalar(select(KbSynonym).where(KbSynonym.variant == variant))
            before = row.canonical if row else None
            if row is None:
                session.add(KbSynonym(variant=variant, canonical=canonical, updated_by=actor.username))
            else:
                row.canonical, row.updated_by, row.updated_at = canonical, actor.username, utcnow()
            self._audit(session, actor, "kb.synonym", variant, f"{before} -> {canonical}")

    def delete_synonym(self, variant: str, actor: Actor) -> None:
        if actor.role not in (Role.ADMIN, Role.CURATOR):
            raise KbForbidden("용어는 큐레이터와 관리자만 바꿀 수 있습니다.")
        with self.db.session() as session:
            row = session.scalar(select(KbSynonym).where(KbSynonym.variant == variant))
            if row is not None:
                self._audit(session, actor, "kb.synonym_delete", variant, f"{row.canonical} -> None")
                session.delete(row)

    def golden_questions(self) -> list[KbGoldenQuestion]:
        with self.db.session() as session:
            return list(session.scalars(select(KbGoldenQuestion).order_by(KbGoldenQuestion.id)))

    def add_golden(self, question: str, entry_id: str, actor: Actor) -> None:
        question = question.strip()
        if not question or len(question) > 300:
            raise KbError("질문을 1~300자로 입력해 주세요.")
        with self.db.session() as session:
            self._entry(session, entry_id)
            session.add(KbGoldenQuestion(question=question, entry_id=entry_id, created_by=actor.username))
            self._audit(session, actor, "kb.golden_add", entry_id, question)

    def delete_golden(self, golden_id: int, actor: Actor) -> None:
        with self.db.session() as session:
            row = session.get(KbGoldenQuestion, golden_id)
            if row is not None:
                self._audit(session, actor, "kb.golden_delete", row.entry_id, row.question)
                session.delete(row)

    def set_check(self, entry_id: str, number: int, check: dict[str, Any]) -> None:
        with self.db.session() as session:
            self._version(session, entry_id, number).check = check

    def check_of(self, entry_id: str, number: int) -> dict[str, Any] | None:
        with self.db.session() as session:
            return self._version(session, entry_id, number).check

    # ---- releases ----
    def record_release(self, fingerprint: str, entries: int, reason: str, actor: str) -> int:
        with self.db.session() as session:
            release = KbRelease(fingerprint=fingerprint, entries=entries, reason=reason[:200], created_by=actor)
            session.add(release)
            session.flush()
            return release.id

    def latest_release(self) -> KbRelease | None:
        with self.db.session() as session:
            return session.scalars(select(KbRelease).order_by(KbRelease.id.desc()).limit(1)).first()

    def content_version(self) -> str:
        """Changes whenever anything residents could be answered from changes (cheap: for polling)."""
        with self.db.session() as session:
            entries = session.execute(
                select(func.count(), func.max(KbEntry.updated_at), func.sum(KbEntry.published_version))
            ).one()
            synonyms = session.execute(select(func.count(), func.max(KbSynonym.updated_at))).one()
            return repr((tuple(entries), tuple(synonyms)))

    # ---- helpers ----
    @staticmethod
    def _entry(session: Session, entry_id: str) -> KbEntry:
        row = session.get(KbEntry, entry_id)
        if row is None:
            raise KbError(f"없는 항목입니다: {entry_id}")
        return row

    @staticmethod
    def _version(session: Session, entry_id: str, number: int) -> KbVersion:
        version = session.scalar(select(KbVersion).where(KbVersion.entry_id == entry_id, KbVersion.number == number))
        if version is None:
            raise KbError(f"없는 버전입니다: {entry_id} v{number}")
        return version

    @staticmethod
    def _require_edit(actor: Actor, department: str) -> None:
        if not actor.may_edit(department):
            raise KbForbidden("이 항목은 담당 부서의 큐레이터나 관리자만 바꿀 수 있습니다.")

    def _new_version(
        self,
        session: Session,
        row: KbEntry,
        content: dict[str, Any],
        origin: VersionOrigin,
        actor: Actor,
        based_on: int | None,
        comment: str,
    ) -> KbVersion:
        # An entry has at most one open (draft / in review / approved) version: a new one replaces it.
        for open_version in session.scalars(
            select(KbVersion).where(KbVersion.entry_id == row.id, KbVersion.status.in_(OPEN_VERSION_STATES))
        ):
            open_version.status = VersionStatus.SUPERSEDED
        row.latest_version += 1
        row.updated_at = utcnow()
        version = KbVersion(
            entry_id=row.id,
            number=row.latest_version,
            status=VersionStatus.DRAFT,
            content=content,
            origin=origin,
            based_on=based_on,
            author=actor.username,
            comment=comment,
        )
        session.add(version)
        session.flush()
        self._audit(session, actor, "kb.save", f"{row.id}:v{version.number}", f"based on v{based_on} ({origin})")
        return version

    def _publish_new(
        self, session: Session, row: KbEntry, content: dict[str, Any], origin: VersionOrigin, actor: Actor, note: str
    ) -> KbVersion:
        version = self._new_version(session, row, content, origin, actor, row.latest_version, note)
        self._make_published(session, row, version)
        return version

    @staticmethod
    def _make_published(session: Session, row: KbEntry, version: KbVersion) -> None:
        if row.published_version is not None and row.published_version != version.number:
            previous = session.scalar(
                select(KbVersion).where(KbVersion.entry_id == row.id, KbVersion.number == row.published_version)
            )
            if previous is not None:
                previous.status = VersionStatus.SUPERSEDED
        version.status, version.published_at = VersionStatus.PUBLISHED, utcnow()
        row.published_version, row.updated_at = version.number, utcnow()
        if version.origin != VersionOrigin.BASELINE:
            row.county_edited = True

    @staticmethod
    def _next_id(session: Session, topic: str) -> str:
        prefix = f"{COUNTY_TOPIC_PREFIX}{topic[1:]}-"
        used = session.scalars(select(KbEntry.id).where(KbEntry.id.like(f"{prefix}%"))).all()
        numbers = [int(i.split("-")[1]) for i in used if i.split("-")[1].isdigit()]
        return f"{prefix}{max(numbers, default=0) + 1:03d}"

    @staticmethod
    def _audit(session: Session, actor: Actor, action: str, target: str = "", detail: str = "") -> None:
        session.add(AuditEntry(actor=actor.username, action=action, target=target[:128], detail=detail))


def _date(value: object) -> dt.date | None:
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


__all__ = [
    "Actor",
    "EntryRow",
    "KbConflict",
    "KbError",
    "KbForbidden",
    "KnowledgeStore",
    "VersionView",
    "content_hash",
    "content_of",
    "entry_from",
]
