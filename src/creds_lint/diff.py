"""(old, new) -> Changes: the only module that talks to DeepDiff.

Unchanged entries are skipped before DeepDiff sees anything (a var-store rewritten by bosh keeps untouched entries
byte-identical), so the cost grows with what changed, not with the size of the file. Values are compared after
:func:`creds_lint.model.normalize`, so reordering the YAML or re-quoting a string is no change (a scalar is what
yaml.v2 reads, so quoting that makes bosh read an integer instead of a string is one).

The four types bosh generates are no deeper than a mapping of strings; their changed fields are read directly
(:func:`_field_paths`, the same report DeepDiff gives, checked by tests/test_differential.py). DeepDiff is loaded
only for values nested deeper, which keeps it off a pre-commit hook's start-up.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from creds_lint.memo import cached
from creds_lint.model import Entry, Typed, VarStore, digest


class ChangeKind(enum.Enum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"


@dataclass(frozen=True, kw_only=True)
class Change:
    """What happened to one variable between the old and the new store."""

    name: str
    kind: ChangeKind
    old: Entry | None
    new: Entry | None
    changed_fields: tuple[str, ...] = ()
    added_fields: tuple[str, ...] = ()
    removed_fields: tuple[str, ...] = ()
    type_changed: bool = False


@dataclass(frozen=True, kw_only=True)
class Changes:
    """All changes between two stores, in the order of the new file (removed variables last, in old order)."""

    items: tuple[Change, ...] = ()

    def __iter__(self) -> Iterator[Change]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def of(self, kind: ChangeKind) -> Iterator[Change]:
        return iter(self._by_kind.get(kind, ()))

    @cached
    def _by_kind(self) -> dict[ChangeKind, tuple[Change, ...]]:
        """The changes of each kind, in order: sorted once, since every rule asks for the changes of one kind."""
        by_kind: dict[ChangeKind, list[Change]] = {}
        for change in self.items:
            by_kind.setdefault(change.kind, []).append(change)
        return {kind: tuple(changes) for kind, changes in by_kind.items()}


NO_CHANGES = Changes()


def compare(old: VarStore, new: VarStore) -> Changes:
    """The changes from ``old`` to ``new``."""
    removed = [name for name in old.entries if name not in new.entries]
    added = [name for name in new.entries if name not in old.entries]
    modified = [
        name for name, entry in new.entries.items() if name in old.entries and old.entries[name].value != entry.value
    ]
    if not (removed or added or modified):
        return NO_CHANGES
    old_values = {name: old.entries[name].value for name in (*removed, *modified)}
    new_values = {name: new.entries[name].value for name in (*added, *modified)}
    paths = _field_paths(old_values, new_values)
    if paths is None:
        paths = _deepdiff_paths(old_values, new_values)
    changes: list[Change] = []
    for name, entry in new.entries.items():
        if name in old.entries and name not in paths:
            continue
        changes.append(_change(name, old.get(name), entry, paths.get(name, {})))
    changes.extend(_change(name, old.entries[name], None, paths.get(name, {})) for name in removed)
    return Changes(items=tuple(changes))


def _change(name: str, old: Entry | None, new: Entry | None, report: dict[str, set[str]]) -> Change:
    if old is None:
        kind = ChangeKind.ADDED
    elif new is None:
        kind = ChangeKind.REMOVED
    else:
        kind = ChangeKind.MODIFIED
    return Change(
        name=name,
        kind=kind,
        old=old,
        new=new,
        changed_fields=tuple(sorted(report.get("changed", ()))),
        added_fields=tuple(sorted(report.get("added", ()))),
        removed_fields=tuple(sorted(report.get("removed", ()))),
        type_changed="root" in report.get("type", set()),
    )


_REPORTS = {
    "dictionary_item_added": "added",
    "dictionary_item_removed": "removed",
    "values_changed": "changed",
    "type_changes": "changed",
    "iterable_item_added": "changed",
    "iterable_item_removed": "changed",
}


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str | Typed)


def _flat(value: object) -> bool:
    """A scalar, or a mapping of scalars: every value bosh generates."""
    if _scalar(value):
        return True
    return isinstance(value, dict) and all(_scalar(v) for v in value.values())


def _shape(value: object) -> type:
    """A string and a number or boolean are both scalars: one read as the other is a new value, not a new type."""
    return str if isinstance(value, Typed) else type(value)


def _field_paths(old: dict[str, object], new: dict[str, object]) -> dict[str, dict[str, set[str]]] | None:
    """What :func:`_deepdiff_paths` reports, for values that are all :func:`_flat`; ``None`` when one is not."""
    if not all(_flat(v) for v in old.values()) or not all(_flat(v) for v in new.values()):
        return None
    result: dict[str, dict[str, set[str]]] = {}
    for name in old.keys() & new.keys():
        before, after = old[name], new[name]
        if isinstance(before, dict) and isinstance(after, dict):
            per_var: dict[str, set[str]] = {}
            if removed := before.keys() - after.keys():
                per_var["removed"] = set(removed)
            if added := after.keys() - before.keys():
                per_var["added"] = set(added)
            if changed := {f for f in before.keys() & after.keys() if before[f] != after[f]}:
                per_var["changed"] = changed
            if per_var:
                result[name] = per_var
        elif _shape(before) is not _shape(after):
            result[name] = {"type": {"root"}, "changed": {"root"}}
        elif before != after:
            result[name] = {"changed": {"root"}}
    return result


def _opaque(value: object) -> object:
    """``value`` with every string replaced by its digest. Only the paths of changes are used, and DeepDiff
    would otherwise compute a line diff of every changed certificate and key (the slowest part of a large run)."""
    if isinstance(value, str):
        return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    if isinstance(value, Typed):
        return digest(value)
    if isinstance(value, dict):
        return {key: _opaque(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_opaque(item) for item in value]
    return value


def _deepdiff_paths(old: dict[str, object], new: dict[str, object]) -> dict[str, dict[str, set[str]]]:
    """Per variable, the fields DeepDiff reports as added, removed or changed.

    A change at the variable itself (a password, or a value that changed type) is reported under the field
    ``"root"``; ``"type"`` records a change of type at the variable itself.
    """
    from deepdiff import DeepDiff

    diff = DeepDiff(_opaque(old), _opaque(new), view="tree", threshold_to_diff_deeper=0, verbose_level=1)
    result: dict[str, dict[str, set[str]]] = {}
    for report, bucket in _REPORTS.items():
        for item in diff.get(report, ()):
            path: Sequence[object] = item.path(output_format="list")
            if not path:  # pragma: no cover - the roots are dicts of the same type
                continue
            name = str(path[0])
            per_var = result.setdefault(name, {})
            if len(path) == 1:
                if report.startswith("dictionary_item"):
                    continue  # the variable itself was added or removed
                if report == "type_changes":
                    per_var.setdefault("type", set()).add("root")
                per_var.setdefault("changed", set()).add("root")
            else:
                field = path[1]
                if len(path) > 2 or not isinstance(field, str):
                    per_var.setdefault("changed", set()).add(str(field))
                else:
                    per_var.setdefault(bucket, set()).add(field)
    return result
