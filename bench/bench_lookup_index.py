"""Micro-benchmark of the phone-desk lookup index (villageboard.services.lookup).

Builds a synthetic township of 10,000 households in 50 villages, with surnames drawn
from realistic frequencies (王 李 张 刘 陈 … ~7 % down to rare ones, multi-reading and
compound surnames included) and villages dominated by one clan, as real villages are.
It then times each query form the clerk types and prints median / p95 in µs.

Timings live here, never in tests (DESIGN.md §8).  Run:

    .venv/bin/python bench/bench_lookup_index.py [--households N] [--queries N] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable

from villageboard.services.lookup.index import LookupIndex
from villageboard.services.lookup.keys import Entry

# (surname, weight in ‰ of the population) — 2020 census order of magnitude.
SURNAMES: list[tuple[str, float]] = [
    ("王", 71),
    ("李", 69),
    ("张", 64),
    ("刘", 54),
    ("陈", 46),
    ("杨", 31),
    ("黄", 25),
    ("赵", 23),
    ("吴", 20),
    ("周", 19),
    ("徐", 15),
    ("孙", 14),
    ("马", 13),
    ("朱", 12),
    ("胡", 11),
    ("郭", 11),
    ("何", 10),
    ("林", 10),
    ("高", 10),
    ("罗", 9),
    ("郑", 9),
    ("梁", 8),
    ("谢", 8),
    ("宋", 7),
    ("唐", 7),
    ("许", 6),
    ("韩", 6),
    ("冯", 6),
    ("邓", 6),
    ("曹", 6),
    ("彭", 5),
    ("曾", 5),
    ("肖", 5),
    ("田", 5),
    ("董", 5),
    ("袁", 4),
    ("潘", 4),
    ("于", 4),
    ("蒋", 4),
    ("蔡", 4),
    ("余", 4),
    ("杜", 4),
    ("叶", 4),
    ("程", 3),
    ("苏", 3),
    ("魏", 3),
    ("吕", 3),
    ("丁", 3),
    ("任", 3),
    ("沈", 3),
    ("姚", 3),
    ("卢", 3),
    ("姜", 3),
    ("崔", 3),
    ("钟", 3),
    ("谭", 3),
    ("陆", 2),
    ("汪", 2),
    ("范", 2),
    ("金", 2),
    ("石", 2),
    ("廖", 2),
    ("贾", 2),
    ("夏", 2),
    ("韦", 2),
    ("付", 2),
    ("方", 2),
    ("白", 2),
    ("邹", 2),
    ("孟", 2),
    ("熊", 2),
    ("秦", 2),
    ("邱", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("闫", 2),
    ("段", 2),
    ("雷", 2),
    ("侯", 2),
    ("龙", 2),
    ("史", 2),
    ("黎", 1),
    ("章", 1),
    ("单", 0.5),
    ("解", 0.5),
    ("仇", 0.5),
    ("区", 0.3),
    ("朴", 0.3),
    ("查", 0.5),
    ("盖", 0.3),
    ("缪", 0.3),
    ("覃", 0.5),
    ("翟", 0.5),
    ("欧阳", 0.5),
    ("司马", 0.2),
    ("长孙", 0.05),
    ("万俟", 0.02),
    ("诸葛", 0.1),
    ("上官", 0.1),
]
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华霞平刚桂兰玉梅红建国志文斌辉鹏林飞"
    "海波宇浩凯俊峰磊晨欣怡佳琪雪丹萍燕玲婷倩雯琳颖慧晶莉卫东春生长乐家兴福寿德荣"
    "金银宝根旺财喜顺利永安新民庆云山水清泉石松柏桃李杏荷菊凤龙虎豹成功立业振"
)
VILLAGE_SYL = "东西南北前后上下大小"
VILLAGE_TAIL = "沟庄河岭坪湾坡洼营店屯寨"
GROUPS = ["一组", "二组", "三组", "四组", "五组", "六组", "七组", "八组"]
AREA = ["141025", "141026", "141027"]


def _id_number(rng: random.Random) -> str:
    body = (
        rng.choice(AREA)
        + f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        + f"{rng.randint(0, 999):03d}"
    )
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def build_township(n: int, rng: random.Random) -> list[Entry]:
    villages = []
    while len(villages) < 50:
        v = rng.choice(VILLAGE_SYL) + rng.choice(VILLAGE_TAIL) + "村"
        if v not in villages:
            villages.append(v)
    names = [s for s, _ in SURNAMES]
    weights = [w for _, w in SURNAMES]
    clan = {v: rng.choices(names[:30], weights[:30])[0] for v in villages}
    out = []
    for hid in range(1, n + 1):
        village = rng.choice(villages)
        surname = clan[village] if rng.random() < 0.3 else rng.choices(names, weights)[0]
        given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2, 2))))
        mobile = f"1{rng.choice('3456789')}{rng.randint(0, 10**9 - 1):09d}"
        phone = "" if rng.random() < 0.15 else mobile  # some households give no phone
        out.append(Entry(hid, surname + given, _id_number(rng), phone, village, rng.choice(GROUPS)))
    return out


def _pinyin(name: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(name)


HOMOPHONE_SURNAME = {"张": "章", "王": "汪", "李": "黎", "刘": "留", "陈": "沉", "杨": "羊"}
TONE_MARK = {"a": "ā", "e": "é", "i": "ǐ", "o": "ò", "u": "ū"}


def query_forms(entries: list[Entry], rng: random.Random, k: int) -> dict[str, list[str]]:
    sample = rng.sample(entries, k)
    forms: dict[str, list[str]] = {
        name: []
        for name in (
            "汉字 exact",
            "汉字 surname only",
            "汉字 given name only",
            "汉字 2 of 3 chars",
            "汉字 homophone",
            "汉字 surname + typing",
            "pinyin spaced",
            "pinyin joined",
            "pinyin tone digits",
            "pinyin tone marks",
            "pinyin surname only",
            "pinyin typing",
            "initials",
            "张wei mixed",
            "fuzzy pinyin",
            "ID tail 4",
            "ID tail 6",
            "phone tail 4",
            "village + pinyin",
            "village + group + initials",
            "village + 4 digits",
        )
    }
    for e in sample:
        py = _pinyin(e.name)
        sur = e.name[:2] if e.name[:2] in ("欧阳", "司马", "长孙", "万俟", "诸葛", "上官") else e.name[0]
        forms["汉字 exact"].append(e.name)
        forms["汉字 surname only"].append(sur)
        forms["汉字 given name only"].append(e.name[len(sur) :] or e.name)
        forms["汉字 2 of 3 chars"].append(e.name[0] + e.name[-1] if len(e.name) >= 3 else e.name)
        forms["汉字 surname + typing"].append(sur + (py[len(sur)][0] if len(py) > len(sur) else ""))
        forms["汉字 homophone"].append(HOMOPHONE_SURNAME.get(e.name[0], "章") + e.name[1:])
        forms["pinyin spaced"].append(" ".join(py))
        forms["pinyin joined"].append("".join(py))
        forms["pinyin tone digits"].append(" ".join(s + str(rng.randint(1, 4)) for s in py))
        marked = []
        for s in py:
            for v in "aeiou":
                if v in s:
                    s = s.replace(v, TONE_MARK[v], 1)
                    break
            marked.append(s)
        forms["pinyin tone marks"].append(" ".join(marked))
        forms["pinyin surname only"].append(py[0])
        forms["pinyin typing"].append("".join(py)[:-1] if len("".join(py)) > 3 else "".join(py))
        forms["initials"].append("".join(s[0] for s in py))
        forms["张wei mixed"].append(e.name[0] + "".join(py[1:]))
        forms["fuzzy pinyin"].append(
            " ".join(s.replace("zh", "z").replace("ch", "c").replace("sh", "s").replace("ng", "n") for s in py)
        )
        forms["ID tail 4"].append(e.id_number[-4:].lower())
        forms["ID tail 6"].append(e.id_number[-6:].lower())
        forms["phone tail 4"].append(e.phone[-4:] if e.phone else e.id_number[-4:])
        forms["village + pinyin"].append(e.village.removesuffix("村") + " " + py[0])
        forms["village + group + initials"].append(f"{e.village} {e.group} " + "".join(s[0] for s in py))
        forms["village + 4 digits"].append(f"{e.village} {e.id_number[-4:]}")
    return forms


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def _time(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - t0) / 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=500, help="queries per form")
    ap.add_argument("--seed", type=int, default=20261128)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    entries = build_township(args.households, rng)

    t0 = time.perf_counter()
    import pypinyin  # noqa: F401  (import cost reported apart from the build)

    t_import = time.perf_counter() - t0
    ix = LookupIndex()
    t0 = time.perf_counter()
    for e in entries:
        ix.add(e)
    t_build = time.perf_counter() - t0
    print(
        f"households: {len(ix):,}  pypinyin import: {t_import * 1000:.0f} ms  "
        f"build: {t_build * 1000:.0f} ms ({t_build / len(ix) * 1e6:.0f} µs/household)"
    )

    forms = query_forms(entries, rng, min(args.queries, len(entries)))
    gc.collect()
    gc.disable()
    try:
        print(f"{'query form':<28}{'median µs':>10}{'p95 µs':>10}{'max µs':>10}{'hits':>6}")
        worst = 0.0
        for form, queries in forms.items():
            for q in queries[:20]:  # warm the per-query caches the way a clerk's session does
                ix.search(q)
            times = []
            hits = 0
            for q in queries:
                times.append(_time(lambda q=q: ix.search(q)))
                hits += len(ix.search(q))
            p95 = _pct(times, 0.95)
            worst = max(worst, p95)
            print(
                f"{form:<28}{statistics.median(times):>10.0f}{p95:>10.0f}{max(times):>10.0f}{hits / len(queries):>6.1f}"
            )
        print(f"worst p95: {worst:.0f} µs")

        # maintenance: replace (rename) and remove + re-add
        upd, rem = [], []
        for e in rng.sample(entries, 500):
            renamed = Entry(e.household_id, e.name[::-1], e.id_number, e.phone, e.village, e.group)
            upd.append(_time(lambda r=renamed: ix.add(r)))
            upd.append(_time(lambda e=e: ix.add(e)))
            rem.append(_time(lambda e=e: ix.remove(e.household_id)))
            ix.add(e)
        print(f"{'add/replace':<28}{statistics.median(upd):>10.0f}{_pct(upd, 0.95):>10.0f}")
        print(f"{'remove':<28}{statistics.median(rem):>10.0f}{_pct(rem, 0.95):>10.0f}")
    finally:
        gc.enable()


if __name__ == "__main__":
    main()
