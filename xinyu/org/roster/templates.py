"""Template files: the downloadable .xlsx of each kind, with its headers, one example row
and a sheet of instructions in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from ..models import ImportKind
from .table import HEADERS, _column_letter

_EXAMPLES: dict[str, dict[str, Any]] = {
    ImportKind.STUDENTS: {
        "学校代码": "A001",
        "校区": "本部",
        "年级": "四年级",
        "班级": "1班",
        "学籍号": "G500153201501019999",
        "姓名": "张三",
        "性别": "男",
        "出生日期": dt.date(2015, 3, 1),
        "监护人姓名": "张父",
        "监护人电话": "13800138000",
        "监护人关系": "父亲",
        "监护人2姓名": "",
        "监护人2电话": "",
        "监护人2关系": "",
        "重点关注": "留守;单亲",
    },
    ImportKind.CLASSES: {"学校代码": "A001", "校区": "本部", "年级": "初一", "班级": "1班"},
    ImportKind.STAFF: {
        "工号": "T2025001",
        "姓名": "李老师",
        "手机号": "13900139000",
        "学校代码": "A001",
        "角色": "心理教师",
        "专兼职": "专职",
        "年级": "",
        "班级": "",
    },
}

_HELP: dict[str, str] = {
    "学校代码": "区教育局分配的学校代码，例如 A001；区级角色不填 / school code (blank for district roles)",
    "校区": "已登记的校区名称，可不填 / campus name, optional",
    "年级": "1–12、四年级、初一、七年级、高二 等 / grade: 4, 四年级, 初一, 高二 …",
    "班级": "1、1班、(1)班 / class number",
    "学籍号": "全国学籍号，字母和数字 / national student number",
    "姓名": "姓名 / name",
    "性别": "男 或 女 / M or F",
    "出生日期": "2015-03-01、2015/3/1、20150301 或 Excel 日期 / date",
    "监护人姓名": "填写监护人时电话必填 / guardian name (phone required with it)",
    "监护人电话": "手机号或带区号的固定电话 / mobile or landline with area code",
    "监护人关系": "例如 父亲、母亲 / relation",
    "监护人2姓名": "第二位监护人，可不填 / second guardian, optional",
    "监护人2电话": "第二位监护人电话 / second guardian phone",
    "监护人2关系": "第二位监护人关系 / second guardian relation",
    "重点关注": "用 ; 或 、 分隔：留守、单亲、家庭经济困难、问题家庭、残疾或重病、精神疾病史、学业困难、心理问题 / key populations",
    "工号": "登录账号，字母数字 / staff number = login name",
    "手机号": "可不填 / phone, optional",
    "角色": "心理教师、班主任、年级组长、校领导、区级管理员、指导中心专家 / role; one row per role",
    "专兼职": "心理教师必填：专职 或 兼职 / psych teachers: 专职 or 兼职",
}

_TEXT_COLUMNS = {"学校代码", "学籍号", "监护人电话", "监护人2电话", "工号", "手机号"}


def template_workbook(*, kind: str) -> bytes:
    """An .xlsx with the headers, one example row and a sheet of instructions."""
    import openpyxl
    from openpyxl.styles import Font

    required, optional = HEADERS[kind]
    columns = [c for c in _EXAMPLES[kind] if c in required or c in optional]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = {"students": "学生名单", "classes": "年级班级", "staff": "教职工"}[kind]
    sheet.append(columns)
    sheet.append([_EXAMPLES[kind][c] for c in columns])
    for i, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font = Font(bold=True, color="C00000" if column in required else "000000")
        letter = _column_letter(i - 1)
        sheet.column_dimensions[letter].width = max(12, len(column) * 3)
        if column in _TEXT_COLUMNS:
            for row in (2, *range(3, 1001)):
                sheet.cell(row=row, column=i).number_format = "@"
        if column == "出生日期":
            sheet.cell(row=2, column=i).number_format = "yyyy-mm-dd"
    help_sheet = workbook.create_sheet("填写说明")
    help_sheet.append(["列名 / column", "必填 / required", "说明 / notes"])
    for column in columns:
        help_sheet.append([column, "是 / yes" if column in required else "否 / no", _HELP.get(column, "")])
    help_sheet.append([])
    help_sheet.append(
        ["第一行为表头，请勿修改；示例行导入前请删除。/ Row 1 is the header; delete the example row."]
    )
    help_sheet.column_dimensions["A"].width = 16
    help_sheet.column_dimensions["C"].width = 90
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
