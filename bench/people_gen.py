#!/usr/bin/env python3
"""bench/people_gen.py - writes N valid residents as a `linli import people` CSV.

Every row is valid: GB 11643 ID numbers with correct check characters (unique:
Beijing district prefixes x birth dates 1925-1964 x sequence), Chinese names
(common surnames, a few compound ones, one- or two-character given names),
unique mobile numbers, Chaoyang communities from data/chaoyang, 0-2 emergency
contacts, a few conditions. Deterministic for a given --seed.

Beside the CSV it writes OUT.queries.json: samples of names, ID numbers and
communities that exist, for bench/people_latency.py.

  people_gen.py N OUT.csv [--seed S] [--communities data/chaoyang/communities_2020.csv]
"""
import argparse
import csv
import datetime
import json
import random

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵")
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙"]
GIVEN = ("秀英桂兰玉兰凤英淑珍秀兰淑兰桂英玉珍建国建华国华志强志明文华德明玉梅秀珍丽华淑英"
         "春华明华永红海燕金凤秀云玉英桂芳淑芬秀芳素珍美兰爱华振华庆华伟芳娜敏静丽强磊军洋勇艳杰"
         "涛明超秀霞平刚桂英华红梅玲辉鹏飞斌宇浩凯健俊帆帅旭宁琳")
REGIONS = ["110101", "110102", "110105", "110106", "110107", "110108", "110111", "110112",
           "110113", "110114", "110115", "110116", "110117", "110118", "110119"]
RELATIONS = ["儿子", "女儿", "配偶", "儿媳", "女婿", "孙子", "孙女", "邻居", "侄子", "外甥"]
CONDITIONS = ["高血压", "糖尿病", "冠心病", "脑卒中后遗症", "慢阻肺", "关节炎", "阿尔茨海默病",
              "帕金森病", "白内障", "骨质疏松"]
CARE = ["self_care"] * 7 + ["partly_dependent"] * 2 + ["dependent"]
SUBSIDY = [""] * 16 + ["dibao", "tekun", "low_income", "shidu", "youfu"]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
HEADER = ("name,id_number,phone,address,lat,lon,community_code,living_alone,care_level,"
          "disability,subsidy_class,conditions,contact1_name,contact1_relation,contact1_phone,"
          "contact2_name,contact2_relation,contact2_phone,consent")
FIRST_DAY = datetime.date(1925, 1, 1)
DAYS = (datetime.date(1964, 12, 31) - FIRST_DAY).days + 1


def check_char(first17):
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def id_number(i):
    """The i-th of DAYS x len(REGIONS) x 1000 distinct numbers."""
    region = REGIONS[i % len(REGIONS)]
    rest = i // len(REGIONS)
    day = FIRST_DAY + datetime.timedelta(days=rest % DAYS)
    seq = (rest // DAYS) % 1000
    first17 = f"{region}{day:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


def name(rng):
    surname = rng.choice(COMPOUND) if rng.random() < 0.02 else rng.choice(SURNAMES)
    if rng.random() < 0.35:
        return surname + rng.choice(GIVEN)
    return surname + rng.choice(GIVEN) + rng.choice(GIVEN)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--communities", default="data/chaoyang/communities_2020.csv")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(args.communities, encoding="utf-8") as f:
        communities = [row["code"] for row in csv.DictReader(f)]
    sample_every = max(1, args.n // 5000)
    samples = {"names": [], "id_numbers": [], "communities": communities}
    with open(args.out, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        lines = []
        for i in range(args.n):
            nm = name(rng)
            idn = id_number(i)
            phone = f"1{rng.choice('3589')}{i:09d}"
            comm = communities[i % len(communities)]
            lat = 39.92 + rng.uniform(-0.08, 0.08)
            lon = 116.48 + rng.uniform(-0.1, 0.1)
            ncontacts = rng.choice((0, 1, 1, 2))
            contacts = []
            for k in range(2):
                if k < ncontacts:
                    contacts.append(f"{name(rng)},{rng.choice(RELATIONS)},"
                                    f"1{rng.choice('3589')}{rng.randrange(10**9):09d}")
                else:
                    contacts.append(",,")
            conds = ";".join(rng.sample(CONDITIONS, rng.choice((0, 0, 1, 1, 2, 3))))
            lines.append(
                f"{nm},{idn},{phone},朝阳区{rng.randrange(1, 300)}号院{rng.randrange(1, 30)}号楼,"
                f"{lat:.6f},{lon:.6f},{comm},{int(rng.random() < 0.2)},{rng.choice(CARE)},,"
                f"{rng.choice(SUBSIDY)},{conds},{contacts[0]},{contacts[1]},{int(rng.random() < 0.9)}")
            if i % sample_every == 0:
                samples["names"].append(nm)
                samples["id_numbers"].append(idn)
            if len(lines) == 10000:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
    with open(args.out + ".queries.json", "w", encoding="utf-8") as f:
        json.dump(samples, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
