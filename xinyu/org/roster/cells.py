"""Cell parsers (pure; raise only ParseError) and the normalising they share.

Grades, class numbers, dates, genders, phones, key-population labels (SPEC §4), roles and
employment, read from the forms people type in a spreadsheet (full-width digits, 四年级,
(1)班, 2015年3月1日 …).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from django.utils import timezone

from ..models import Employment, Gender, KeyPopulation, Role
from .errors import ParseError

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _norm(value: Any) -> str:
    """Cell value as stripped text, full-width forms folded (NFKC), integral floats as ints."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _small_number(text: str) -> int | None:
    """'12', '十二', '二十三' → int (0–99); anything else → None."""
    if re.fullmatch(r"[0-9]{1,3}", text):
        return int(text)
    m = re.fullmatch(r"([一二两三四五六七八九])?(十)?([一二三四五六七八九])?", text)
    if not m or not text:
        return None
    tens, ten, units = m.groups()
    if tens and not ten and units:  # '二三' is not a number
        return None
    if ten:
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    return _CN_DIGITS[tens or units] if (tens or units) else None


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def parse_grade(value: Any) -> int:
    """Grade level 1–12 from '4', 4, '四年级', '4年级', '初一', '七年级', '初中一年级', '高二'…"""
    number = _whole_number(value)
    if number is None:
        text = re.sub(r"\s+", "", _norm(value))
        offset = 0
        for prefix, add in (("小学", 0), ("初中", 6), ("高中", 9), ("初", 6), ("高", 9)):
            if text.startswith(prefix):
                text, offset = text[len(prefix) :], add
                break
        text = text.removesuffix("年级")
        number = _small_number(text)
        if number is not None:
            if offset and not 1 <= number <= 3:
                number = None
            else:
                number += offset
    if number is None or not 1 <= number <= 12:
        raise ParseError("无法识别", "unknown grade")
    return number


def parse_class_number(value: Any) -> int:
    """Class number 1–99 from '1', 1, '1班', '(1)班', '（1）班', '一班'."""
    number = _whole_number(value)
    if number is None:
        text = re.sub(r"\s+", "", _norm(value)).removesuffix("班")
        if text.startswith("(") and text.endswith(")"):
            text = text[1:-1]
        number = _small_number(text)
    if number is None or not 1 <= number <= 99:
        raise ParseError("无法识别", "unknown class")
    return number


_DATE_RES = (
    re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?", re.ASCII),
    re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII),
)


def parse_date(value: Any) -> dt.date:
    """A date from an Excel date cell, '2015-03-01', '2015/3/1', '2015.3.1', '2015年3月1日'
    or '20150301'."""
    if isinstance(value, dt.date):
        cell = value.date() if isinstance(value, dt.datetime) else value
        if cell.year < 1900:
            raise ParseError("格式错误", "bad date")
        return cell
    text = _norm(value)
    for pattern in _DATE_RES:
        m = pattern.fullmatch(text)
        if m:
            year, month, day = (int(g) for g in m.groups())
            if year < 1900:
                break
            try:
                return dt.date(year, month, day)
            except ValueError:
                break
    raise ParseError("格式错误", "bad date")


def parse_birth_date(value: Any) -> dt.date:
    born = parse_date(value)
    if born > timezone.localdate():
        raise ParseError("晚于今天", "date in the future")
    return born


_GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE, "M": Gender.MALE, "F": Gender.FEMALE}
_GENDERS |= {"男性": Gender.MALE, "女性": Gender.FEMALE, "MALE": Gender.MALE, "FEMALE": Gender.FEMALE}


def parse_gender(value: Any) -> str:
    gender = _GENDERS.get(_norm(value).upper())
    if gender is None:
        raise ParseError("无效（应为 男/女）", "bad gender (expected 男/女/M/F)")
    return str(gender)


_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


def parse_phone(value: Any) -> str:
    """A Chinese mobile (1[3-9] + 9 digits) or a landline with area code (0xx-xxxxxxxx)."""
    text = re.sub(r"\s+", "", _norm(value)).removeprefix("+86")
    if _MOBILE.fullmatch(text) or _LANDLINE.fullmatch(text):
        return text
    raise ParseError("格式错误", "bad phone")


_FLAG_LABELS: dict[str, str] = {
    "留守": KeyPopulation.LEFT_BEHIND,
    "留守儿童": KeyPopulation.LEFT_BEHIND,
    "单亲": KeyPopulation.SINGLE_PARENT,
    "单亲家庭": KeyPopulation.SINGLE_PARENT,
    "家庭经济困难": KeyPopulation.POOR_FAMILY,
    "经济困难": KeyPopulation.POOR_FAMILY,
    "困难家庭": KeyPopulation.POOR_FAMILY,
    "问题家庭": KeyPopulation.PROBLEM_FAMILY,
    "残疾或重病": KeyPopulation.DISABILITY_ILLNESS,
    "残疾": KeyPopulation.DISABILITY_ILLNESS,
    "重病": KeyPopulation.DISABILITY_ILLNESS,
    "精神疾病史": KeyPopulation.MENTAL_ILLNESS_HISTORY,
    "学业困难": KeyPopulation.ACADEMIC_DIFFICULTY,
    "心理问题": KeyPopulation.PSYCH_PROBLEM,
} | {str(v): str(v) for v in KeyPopulation.values}


def parse_flags(value: Any) -> set[str]:
    """Key-population labels (SPEC §4) separated by ; ； 、 ， or ','."""
    kinds: set[str] = set()
    for part in re.split(r"[;；、，,/\s]+", _norm(value)):
        if not part:
            continue
        kind = _FLAG_LABELS.get(part)
        if kind is None:
            raise ParseError(f"含未知标签“{part}”", f"unknown label “{part}”")
        kinds.add(kind)
    return kinds


_ROLE_LABELS: dict[str, tuple[str, str]] = {
    # label → (role, employment implied by the label)
    "心理教师": (Role.PSYCH_TEACHER, ""),
    "心理健康教师": (Role.PSYCH_TEACHER, ""),
    "专职心理教师": (Role.PSYCH_TEACHER, Employment.FULL_TIME),
    "兼职心理教师": (Role.PSYCH_TEACHER, Employment.PART_TIME),
    "班主任": (Role.CLASS_TEACHER, ""),
    "年级组长": (Role.GRADE_LEADER, ""),
    "校领导": (Role.SCHOOL_LEADER, ""),
    "校长": (Role.SCHOOL_LEADER, ""),
    "分管副校长": (Role.SCHOOL_LEADER, ""),
    "区级管理员": (Role.DISTRICT_ADMIN, ""),
    "指导中心专家": (Role.CENTRE_EXPERT, ""),
    "辅导站专家": (Role.CENTRE_EXPERT, ""),
}


def parse_role(value: Any) -> tuple[str, str]:
    found = _ROLE_LABELS.get(re.sub(r"\s+", "", _norm(value)))
    if found is None:
        raise ParseError(
            "无法识别（应为 心理教师/班主任/年级组长/校领导/区级管理员/指导中心专家）", "unknown role"
        )
    return str(found[0]), str(found[1])


def parse_employment(value: Any) -> str:
    text = _norm(value)
    if text in ("专职", "全职"):
        return str(Employment.FULL_TIME)
    if text == "兼职":
        return str(Employment.PART_TIME)
    raise ParseError("无效（应为 专职/兼职）", "bad employment (expected 专职/兼职)")


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return _norm(value)[:40]
