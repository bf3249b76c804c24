"""Write Datasette's page templates with their chrome in Chinese into archive/datasette/templates/.

    python tools/gen_datasette_templates.py           # write the overrides
    python tools/gen_datasette_templates.py --check   # exit 1 if the committed overrides are out of step

Each override is the installed Datasette's own template with the replacements below applied, so an upgrade of
Datasette is one re-run: a replacement whose English text is no longer in the template stops the run with the
template and the text named (nothing is written half-translated). tests/test_chrome.py runs the check.
Strings that Datasette builds in Python or JavaScript (the column menu of table.js, "where …" descriptions)
stay English.
"""

from __future__ import annotations

import sys
from pathlib import Path

import datasette

SOURCE = Path(datasette.__file__).parent / "templates"
TARGET = Path(__file__).resolve().parents[1] / "archive" / "datasette" / "templates"

# Filter operators (datasette/filters.py keys) in Chinese, for the filter form's <select>.
LOOKUPS = (
    "{% set nb_ops = {'exact': '等于 =', 'not': '不等于 !=', 'contains': '包含', 'endswith': '结尾是',"
    " 'startswith': '开头是', 'gt': '大于 >', 'gte': '大于等于 ≥', 'lt': '小于 <', 'lte': '小于等于 ≤',"
    " 'like': 'like', 'notlike': 'not like', 'glob': 'glob', 'in': '在列表中 in', 'notin': '不在列表中 not in',"
    " 'arraycontains': '数组包含', 'arraynotcontains': '数组不含', 'date': '日期是', 'isnull': '为空 null',"
    " 'notnull': '不为空', 'isblank': '为空白', 'notblank': '不为空白'} %}"
)

COUNT_ROWS = '{{ "{:,}".format(filtered_table_rows_count) }} row{% if filtered_table_rows_count == 1 %}{% else %}s{% endif %}'

REPLACEMENTS: dict[str, list[tuple[str, str]]] = {
    "base.html": [
        ("<html>", '<html lang="zh-CN">'),
        ('<title id="nav-menu-svg-title">Menu</title>', '<title id="nav-menu-svg-title">菜单</title>'),
        (
            '<button class="button-as-link">Log out</button>',
            '<button class="button-as-link">退出登录</button>',
        ),
    ],
    "_footer.html": [
        (
            'Powered by <a href="https://datasette.io/" title="Datasette v{{ datasette_version }}">Datasette</a>',
            '由 <a href="https://datasette.io/" title="Datasette v{{ datasette_version }}">Datasette</a> 驱动',
        ),
        ("&middot; Queries took {{ query_ms|round(3) }}ms", "&middot; 查询用时 {{ query_ms|round(3) }} 毫秒"),
        ("&middot; Data license:", "&middot; 数据许可："),
        ("Data source: {%", "数据来源：{%"),
        ("About: {%", "关于：{%"),
    ],
    "_description_source_license.html": [
        ("%}Data license:", "%}数据许可："),
        ("Data source: {%", "数据来源：{%"),
        ("About: {%", "关于：{%"),
    ],
    "_crumbs.html": [
        (
            '<a href="{{ item.href }}">{{ item.label }}</a>',
            '<a href="{{ item.href }}">{{ "首页" if item.label == "home" else item.label }}</a>',
        )
    ],
    "_suggested_facets.html": [("Suggested facets:", "建议的分面 facets：")],
    "_table.html": [
        (
            '{% if column.description %}data-column-description="{{ column.description }}" {% endif %}',
            '{% if column.description %}data-column-description="{{ column.description }}"'
            ' title="{{ column.description }}" {% endif %}',
        ),
        ('<p class="zero-results">0 records</p>', '<p class="zero-results">没有记录 0 records</p>'),
    ],
    "table.html": [
        (
            COUNT_ROWS + "{% endif %}{% if human_description_en %}",
            '{{ "{:,}".format(filtered_table_rows_count) }} 行{% endif %}{% if human_description_en %}',
        ),
        ("{% if is_view %} (view){% endif %}", "{% if is_view %}（视图 view）{% endif %}"),
        (
            '<title id="actions-menu-links-title">Table actions</title>',
            '<title id="actions-menu-links-title">表操作</title>',
        ),
        (
            """<dl class="column-descriptions">
    {% for column_name, column_description in metadata.columns.items() %}
        <dt>{{ column_name }}</dt><dd>{{ column_description }}</dd>
    {% endfor %}
</dl>""",
            """<details class="nb-column-descriptions"><summary>列说明 Column descriptions（{{ metadata.columns|length }}）</summary>
<dl class="column-descriptions">
    {% for column_name, column_description in metadata.columns.items() %}
        <dt>{{ column_name }}</dt><dd>{{ column_description }}</dd>
    {% endfor %}
</dl>
</details>""",
        ),
        (
            "<h3>{% if filtered_table_rows_count or filtered_table_rows_count == 0 %}" + COUNT_ROWS,
            '<h3>{% if filtered_table_rows_count or filtered_table_rows_count == 0 %}共 {{ "{:,}".format(filtered_table_rows_count) }} 行',
        ),
        ('<label for="_search">Search:</label>', '<label for="_search">检索：</label>'),
        ('<option value="">- remove filter -</option>', '<option value="">- 删除条件 -</option>'),
        ('<option value="">- column -</option>', '<option value="">- 列 -</option>'),
        (
            '<form class="filters"',
            LOOKUPS + '\n<form class="filters"',
        ),
        ("{% endif %}>{{ display }}</option>", "{% endif %}>{{ nb_ops.get(key, display) }}</option>"),
        ('<option value="">Sort...</option>', '<option value="">排序…</option>'),
        (
            "selected{% endif %}>Sort by {{ column.name }}</option>",
            "selected{% endif %}>按 {{ column.name }} 排序</option>",
        ),
        ("checked{% endif %}> descending</label>", "checked{% endif %}> 降序</label>"),
        ('<input type="submit" value="Apply">', '<input type="submit" value="应用">'),
        (
            "<h3>{{ extra_wheres_for_ui|length }} extra where clause{% if extra_wheres_for_ui|length != 1 %}s{% endif %}</h3>",
            "<h3>{{ extra_wheres_for_ui|length }} 个附加 where 条件</h3>",
        ),
        (
            '[<a href="{{ extra_where.remove_url }}">remove</a>]',
            '[<a href="{{ extra_where.remove_url }}">删除</a>]',
        ),
        (
            '<span class="underlined">View and edit SQL</span>',
            '<span class="underlined">查看和编辑 SQL</span>',
        ),
        ('<p class="export-links">This data as ', '<p class="export-links">下载本数据：'),
        (
            '<a href="{{ url_csv }}">CSV</a> (<a href="#export">advanced</a>)',
            '<a href="{{ url_csv }}">CSV</a>（<a href="#export">高级导出</a>）',
        ),
        ('<p class="facets-timed-out">These facets timed out:', '<p class="facets-timed-out">这些分面超时：'),
        (
            '<p><a href="{{ next_url }}">Next page</a></p>',
            '<p><a href="{{ next_url }}">下一页 Next page</a></p>',
        ),
        ("<h3>Advanced export</h3>", "<h3>高级导出</h3>"),
        ("<p>JSON shape:", "<p>JSON 格式："),
        ("'_shape=array') }}\">array</a>", "'_shape=array') }}\">数组 array</a>"),
        ('">newline-delimited</a>', '">每行一条 newline-delimited</a>'),
        ("'_shape=object') }}\">object</a>", "'_shape=object') }}\">对象 object</a>"),
        ("renderers['json'] }}\">default</a>", "renderers['json'] }}\">默认</a>"),
        ("CSV options:", "CSV 选项："),
        ('name="_dl"> download file</label>', 'name="_dl"> 下载为文件</label>'),
        ("checked> expand labels</label>", "checked> 展开外键标签</label>"),
        ('name="_stream"> stream all rows</label>', 'name="_stream"> 导出全部行</label>'),
        ('<input type="submit" value="Export CSV">', '<input type="submit" value="导出 CSV">'),
    ],
    "row.html": [
        ("<p>This data as ", "<p>下载本数据："),
        ("<h2>Links from other tables</h2>", "<h2>其他表中引用此行的记录</h2>"),
        (
            '{{ "{:,}".format(other.count) }} row{% if other.count == 1 %}{% else %}s{% endif %}</a>\n'
            "                from {{ other.other_column }} in {{ other.other_table }}",
            '{{ "{:,}".format(other.count) }} 行</a>\n'
            "                （{{ other.other_table }} 表的 {{ other.other_column }} 列）",
        ),
    ],
    "query.html": [
        (
            "This query cannot be executed because the database is immutable.",
            "数据库为只读，不能执行此查询。",
        ),
        (
            '<h3>Custom SQL query{% if display_rows %} returning {% if truncated %}more than {% endif %}{{ "{:,}".format(display_rows|length) }} row{% if display_rows|length == 1 %}{% else %}s{% endif %}{% endif %}',
            '<h3>自定义 SQL 查询{% if display_rows %}，返回{% if truncated %}超过{% endif %} {{ "{:,}".format(display_rows|length) }} 行{% endif %}',
        ),
        ("<h3>Query parameters</h3>", "<h3>查询参数</h3>"),
        ('type="button" hidden>Format SQL</button>', 'type="button" hidden>格式化 SQL</button>'),
        ('<input type="submit" value="Run SQL"', '<input type="submit" value="运行 SQL"'),
        ('class="canned-query-edit-sql">Edit SQL</a>', 'class="canned-query-edit-sql">编辑 SQL</a>'),
        ('<p class="export-links">This data as ', '<p class="export-links">下载本数据：'),
        ('<p class="zero-results">0 results</p>', '<p class="zero-results">没有结果 0 results</p>'),
    ],
    "database.html": [
        (
            '<title id="actions-menu-links-title">Table actions</title>',
            '<title id="actions-menu-links-title">数据库操作</title>',
        ),
        ("<h3>Custom SQL query</h3>", "<h3>自定义 SQL 查询</h3>"),
        ('type="button" hidden>Format SQL</button>', 'type="button" hidden>格式化 SQL</button>'),
        ('<input type="submit" value="Run SQL">', '<input type="submit" value="运行 SQL">'),
        (
            "<p>The following databases are attached to this connection, and can be used for cross-database joins:</p>",
            "<p>以下数据库附加在此连接上，可跨库联接查询：</p>",
        ),
        ('<h2 id="queries">Queries</h2>', '<h2 id="queries">预设查询 Queries</h2>'),
        ('<h2 id="tables">Tables</h2>', '<h2 id="tables">数据表 Tables</h2>'),
        (
            "{% if table.hidden %}<em> (hidden)</em>{% endif %}",
            "{% if table.hidden %}<em>（隐藏）</em>{% endif %}",
        ),
        (
            '{% if table.count is none %}Many rows{% else %}{{ "{:,}".format(table.count) }} row{% if table.count == 1 %}{% else %}s{% endif %}{% endif %}',
            '{% if table.count is none %}很多行{% else %}{{ "{:,}".format(table.count) }} 行{% endif %}',
        ),
        (
            '<p>... and <a href="{{ urls.database(database) }}?_show_hidden=1">{{ "{:,}".format(hidden_count) }} hidden table{% if hidden_count == 1 %}{% else %}s{% endif %}</a></p>',
            '<p>……以及 <a href="{{ urls.database(database) }}?_show_hidden=1">{{ "{:,}".format(hidden_count) }} 个隐藏表（索引等）</a></p>',
        ),
        ('<h2 id="views">Views</h2>', '<h2 id="views">视图 Views</h2>'),
        ("Download SQLite DB:", "下载 SQLite 数据库："),
    ],
    # index.html is the project's own (the search box); it extends this translated copy.
    "index.html": [
        (
            '{% if database.show_table_row_counts %}{{ "{:,}".format(database.table_rows_sum) }} rows in {% endif %}{{ database.tables_count }} table{% if database.tables_count != 1 %}s{% endif %}',
            '{% if database.show_table_row_counts %}{{ "{:,}".format(database.table_rows_sum) }} 行，{% endif %}{{ database.tables_count }} 个表',
        ),
        (
            '{% if database.show_table_row_counts %}{{ "{:,}".format(database.hidden_table_rows_sum) }} rows in {% endif %}{{ database.hidden_tables_count }} hidden table{% if database.hidden_tables_count != 1 %}s{% endif -%}',
            '{% if database.show_table_row_counts %}{{ "{:,}".format(database.hidden_table_rows_sum) }} 行，{% endif %}{{ database.hidden_tables_count }} 个隐藏表{% if false %}{% endif -%}',
        ),
        (
            '{{ "{:,}".format(database.views_count) }} view{% if database.views_count != 1 %}s{% endif %}',
            '{{ "{:,}".format(database.views_count) }} 个视图',
        ),
        ('title="{{ table.count }} rows"', 'title="{{ table.count }} 行"'),
    ],
    "error.html": [
        ("{% else %}Error {{ status }}{% endif %}", "{% else %}错误 Error {{ status }}{% endif %}")
    ],
}

# Where an override's file name differs from Datasette's (the project's own file takes the name).
TARGET_NAMES = {"index.html": "_nianbao_index_base.html"}


def render(name: str) -> str:
    text = (SOURCE / name).read_text(encoding="utf-8")
    for old, new in REPLACEMENTS[name]:
        if old not in text:
            raise SystemExit(
                f"{name}: Datasette {datasette.__version__} no longer has {old[:80]!r}; update me"
            )
        text = text.replace(old, new)
    header = (
        f"{{# Datasette {datasette.__version__} templates/{name} with its chrome in Chinese: written by"
        " tools/gen_datasette_templates.py, do not edit by hand. #}\n"
    )
    return header + text


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name in REPLACEMENTS:
        target = TARGET / TARGET_NAMES.get(name, name)
        text = render(name)
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of step with Datasette {datasette.__version__}: {', '.join(stale)}", file=sys.stderr)
        print("run: python tools/gen_datasette_templates.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
