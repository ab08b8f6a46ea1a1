"""Reading a run folder's small files defensively (torch-free).

A run folder outlives the process that wrote it: files get cut short by a full disk, edited by hand, replaced by a
folder, or filled with noise by a bad copy. Every read here takes regular files only (a FIFO would block), at most a
few megabytes, parses JSON strictly and checks each field it knows by type and range. Damage becomes a
``RunFileError`` whose message names the file and says what is wrong, or a line in a list of problems; it never
escapes as a traceback, and it never concerns more than the one run.
"""

from __future__ import annotations

import functools
import json
import math
import os
import stat
import types
import typing
from pathlib import Path
from typing import Any, Callable

from gan_studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from gan_studio.errors import CheckpointError, GanStudioError

SMALL_FILE = 1 << 20  # config.json, run.json, best.json, favourites.json, train.lock: a few kB when healthy
STATS_FILE = 256 << 20  # stats.jsonl: about 40 MB after a million logged steps
STATS_LINE = 64 << 10  # one record is about 400 bytes
MAX_STEP = 10 ** 12
MAX_SEED = 2 ** 63 - 1
MAX_FAVOURITES = 100_000  # what one export may draw
MAX_SIDE = 8192  # pixels: more than any family trains
BIG = 1e15  # larger than any figure a run logs (losses, rates, seconds)
SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


class RunFileError(CheckpointError):
    """A file of a run folder exists but cannot be used; the message names the file and says why."""


# ------------------------------------------------------------------------------------------------- reading
def read_bytes(path: Path, what: str, limit: int = SMALL_FILE) -> bytes | None:
    """The bytes of a regular file of at most ``limit`` bytes; None when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:  # also a link to nowhere
        return None
    except OSError as e:
        raise RunFileError(f"{what} cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise RunFileError(f"{what} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
        raise RunFileError(f"{what} is not a regular file")
    if st.st_size > limit:
        raise RunFileError(f"{what} is too large ({st.st_size:,} bytes; a healthy one is far smaller)")
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise RunFileError(f"{what} cannot be read ({e.strerror or e})") from None
    if len(data) > limit:
        raise RunFileError(f"{what} is too large (more than {limit:,} bytes)")
    return data


def parse_json(data: bytes, what: str) -> Any:
    if not data.strip():
        raise RunFileError(f"{what} is empty")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RunFileError(f"{what} is not text (binary data)") from None
    except ValueError as e:  # also a number of thousands of digits
        raise RunFileError(f"{what} is not valid JSON ({str(e).split(';')[0][:120]})") from None
    except RecursionError:
        raise RunFileError(f"{what} is not valid JSON (nested too deeply)") from None


def read_json(path: Path, what: str, limit: int = SMALL_FILE) -> Any:
    """The parsed JSON of a small file; None when the file does not exist."""
    data = read_bytes(path, what, limit)
    return None if data is None else parse_json(data, what)


# ------------------------------------------------------------------------------------------------ fields
def is_int(value: Any, low: int = 0, high: int = MAX_STEP) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def is_number(value: Any, low: float = -BIG, high: float = BIG) -> bool:
    """A finite real number in [low, high] (JSON allows NaN and huge integers; we do not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (isinstance(value, int) or math.isfinite(value)) and low <= value <= high


def is_text(value: Any, longest: int = 4096) -> bool:
    return isinstance(value, str) and len(value) <= longest and "\x00" not in value


def json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "text", bool: "true or false", int: "a number",
             float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _first_problem(record: dict[str, Any], fields: dict[str, tuple[Callable[[Any], bool], str]]) -> str | None:
    for key, (ok, kind) in fields.items():
        if key in record and not ok(record[key]):
            return f"{key} is {show(record[key])}, not {kind}"
    return None


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _shape(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 3 and is_int(value[0], 1, 4)
            and all(is_int(v, 1, MAX_SIDE) for v in value[1:]))


INFO_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "source": (is_text, "text"), "created": (is_text, "text"), "platform": (is_text, "text"),
    "device": (is_text, "text"), "precision": (is_text, "text"),
    "n_images": (is_int, "a count"), "rejected": (is_int, "a count"),
    "world_size": (lambda v: is_int(v, 1, 1 << 20), "a count of processes"),
    "image_shape": (_shape, "[channels, height, width]"),
}
_NUMBER = (_optional(is_number), "a number")
STATS_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "step": (is_int, "a step number"),
    "seconds": (lambda v: is_number(v, 0, 1e10), "a number of seconds"),
    **{key: _NUMBER for key in ("images_per_s", "loss_d", "loss_g", "d_real", "d_fake", "lr_g", "lr_d", "progress",
                                "eta_s", "augment_p", "r_t", "swd", "copy_share")},
}
BEST_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "step": (is_int, "a step number"), "swd": (lambda v: is_number(v, 0), "a distance"),
    "copy_share": (lambda v: is_number(v, 0, 1), "a share between 0 and 1"), "n": (is_int, "a count"),
}
LOCK_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "pid": (lambda v: is_int(v, 1, 2 ** 31 - 1), "a process id"), "host": (lambda v: is_text(v, 255), "a host name"),
}


def check_info(info: Any) -> tuple[dict[str, Any], str | None]:
    """run.json's facts with every known field of a wrong type left out, and what was wrong (None: nothing)."""
    if not isinstance(info, dict):
        return {}, f"run.json is {json_kind(info)}, not a JSON object (ignored)"
    bad = [key for key, (ok, _) in INFO_FIELDS.items() if key in info and not ok(info[key])]
    if not bad:
        return info, None
    return ({k: v for k, v in info.items() if k not in bad},
            f"run.json: {_first_problem(info, INFO_FIELDS)} (ignored)")


def check_record(record: Any, fields: dict[str, tuple[Callable[[Any], bool], str]], required: tuple[str, ...]
                 ) -> str | None:
    """Why a JSON object is not a valid record (a stats line, best.json, the lock); None when it is."""
    if not isinstance(record, dict):
        return f"{json_kind(record)}, not a JSON object"
    missing = [key for key in required if key not in record]
    if missing:
        return f"{', '.join(missing)} missing"
    return _first_problem(record, fields)


def check_favourites(data: Any) -> list[int]:
    """favourites.json's seeds, sorted; a RunFileError when it is not what the gallery writes."""
    what = "favourites.json"
    if not isinstance(data, dict) or not isinstance(data.get("seeds"), list):
        raise RunFileError(f"{what} does not hold a list of seeds")
    if "version" in data and not is_int(data["version"], 1, 1000):
        raise RunFileError(f"{what}: version is {show(data['version'])}, not a version number")
    seeds = data["seeds"]
    if len(seeds) > MAX_FAVOURITES:
        raise RunFileError(f"{what} holds {len(seeds):,} seeds; at most {MAX_FAVOURITES:,} are kept")
    bad = [s for s in seeds if not is_int(s, 0, MAX_SEED)]
    if bad:
        raise RunFileError(f"{what}: {show(bad[0])} is not a seed")
    return sorted(set(seeds))


# --------------------------------------------------------------------------------------------- stats
def parse_stats(data: bytes, what: str = "stats.jsonl", partial_first: bool = False
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """The valid records of (a stretch of) stats.jsonl, and what was skipped. A last line without its newline
    (a crash mid-write) is skipped silently; ``partial_first``: the first line may be the tail of a longer one."""
    lines = data.split(b"\n")
    records, bad = [], []
    for i, line in enumerate(lines):
        if not line.strip() or (partial_first and i == 0):
            continue
        where = " near its end" if partial_first else f" line {i + 1}"
        if len(line) > STATS_LINE:
            bad.append(f"{where}: a line far too long")
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except (ValueError, RecursionError):
            if i < len(lines) - 1:  # not the last line, which a crash may have cut short
                bad.append(f"{where}: not valid JSON")
            continue
        reason = check_record(record, STATS_FIELDS, ("step",))
        if reason is None:
            records.append(record)
        else:
            bad.append(f"{where}: {reason}")
    more = f" and {len(bad) - 1} more record(s)" if len(bad) > 1 else ""
    problems = [f"{what}{bad[0]} (skipped{more})"] if bad else []
    return records, problems


# --------------------------------------------------------------------------------------------- config
@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _conforms(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and len(value) <= 1000 and all(_conforms(v, item) for v in value)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return is_int(value, -(2 ** 53), 2 ** 53)
    if hint is float:
        return is_number(value)
    if hint is str:
        return is_text(value)
    return True  # a kind of field this check does not know: the config's own validation judges it


def _float_field(hint: Any) -> bool:
    return hint is float or (typing.get_origin(hint) in (typing.Union, types.UnionType)
                             and float in typing.get_args(hint) and int not in typing.get_args(hint))


def _kind(hint: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "text", type(None): "null"}
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_kind(arg) for arg in typing.get_args(hint))
    if typing.get_origin(hint) is list:
        return f"a list of {_kind(typing.get_args(hint)[0])}"
    return names.get(hint, str(hint))


# Ranges the config's own validation leaves open, which PyTorch or memory would refuse later with a traceback.
LIMITS: dict[tuple[str, str], tuple[Callable[[Any], bool], str]] = {
    ("train", "beta1"): (lambda v: 0 <= v < 1, "in [0, 1)"),
    ("train", "beta2"): (lambda v: 0 <= v < 1, "in [0, 1)"),
    ("train", "checkpoint_minutes"): (lambda v: v > 0, "positive"),
    ("train", "k"): (lambda v: v <= 1000, "at most 1000"),
    ("train", "preview_n"): (lambda v: v <= 1024, "at most 1024"),
    ("train", "quality_n"): (lambda v: v <= 100_000, "at most 100000"),
    ("model", "d_pieces"): (lambda v: v <= 64, "at most 64"),
    ("model", "g_hidden"): (lambda v: len(v) <= 64 and max(v, default=0) <= 65536, "up to 64 layers of 65536"),
    ("model", "d_hidden"): (lambda v: len(v) <= 64 and max(v, default=0) <= 65536, "up to 64 layers of 65536"),
}


def config_from_dict(data: Any, what: str = "config.json") -> RunConfig:
    """A validated RunConfig from parsed JSON (config.json, or the copy inside a checkpoint); every field is
    checked by type first, so a damaged value is a RunFileError that names it, never a TypeError later."""
    if not isinstance(data, dict):
        raise RunFileError(f"{what} is {json_kind(data)}, not a JSON object")
    if "version" in data and not is_int(data["version"], 0, 1000):
        raise RunFileError(f"{what}: version is {show(data['version'])}, not a version number")
    data = dict(data)
    for name, kind in SECTIONS.items():
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise RunFileError(f"{what}: section {name!r} is {show(section)}, not a JSON object")
        hints = _hints(kind)
        for key, value in section.items():
            if key in hints and not _conforms(value, hints[key]):
                raise RunFileError(f"{what}: {name}.{key} is {show(value)}, not {_kind(hints[key])}")
            limit = LIMITS.get((name, key))
            if limit is not None and value is not None and not limit[0](value):
                raise RunFileError(f"{what}: {name}.{key} is {show(value)}, not {limit[1]}")
        # JSON writes 0.0 as 0 when edited by hand; PyTorch wants a float where the config says float
        data[name] = {key: float(value) if _float_field(hints.get(key)) and is_int(value, -(2 ** 53), 2 ** 53)
                      else value for key, value in section.items()}
    try:
        return RunConfig.from_dict(data).validate()
    except GanStudioError as e:
        raise RunFileError(f"{what}: {e}") from None
    except (TypeError, ValueError, AttributeError, ArithmeticError, KeyError) as e:  # what the types let through
        raise RunFileError(f"{what} is not a usable config ({type(e).__name__}: {str(e)[:120]})") from None
