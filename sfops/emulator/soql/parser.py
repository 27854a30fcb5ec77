"""Recursive-descent SOQL parser: text -> `nodes.Query`. Syntax errors raise SoqlError
(MALFORMED_QUERY, caret form); names are only checked later, against a catalog.

Grammar (clause order is strict, as in Salesforce)::

    query     := SELECT items FROM name [alias] [USING SCOPE ident] [WHERE cond]
                 [WITH ident] [GROUP BY paths] [HAVING cond] [ORDER BY keys]
                 [LIMIT int] [OFFSET int] [FOR (VIEW|REFERENCE|UPDATE)]
    cond      := NOT simple | simple (AND simple)* | simple (OR simple)*   -- mixing needs parens
    simple    := '(' cond ')' | operand op value | operand [NOT] IN (list|query)
                 | operand (INCLUDES|EXCLUDES) list
"""

from __future__ import annotations

from sfops.emulator.soql import lexer as lx
from sfops.emulator.soql.dates import DATE_LITERALS, N_DATE_LITERALS
from sfops.emulator.soql.errors import MALFORMED_QUERY, NUMBER_OUTSIDE_VALID_RANGE, SoqlError, error_at
from sfops.emulator.soql.lexer import Token
from sfops.emulator.soql.nodes import (
    Aggregate,
    BoolOp,
    Comparison,
    Condition,
    DateFunc,
    FieldRef,
    FieldsFunc,
    Literal,
    Not,
    OrderItem,
    Query,
    SelectItem,
    SubQuery,
)

AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"})
DATE_FUNCTIONS = frozenset(
    {
        "CALENDAR_MONTH",
        "CALENDAR_QUARTER",
        "CALENDAR_YEAR",
        "DAY_IN_MONTH",
        "DAY_IN_WEEK",
        "DAY_IN_YEAR",
        "DAY_ONLY",
        "FISCAL_MONTH",
        "FISCAL_QUARTER",
        "FISCAL_YEAR",
        "HOUR_IN_DAY",
        "WEEK_IN_MONTH",
        "WEEK_IN_YEAR",
    }
)
RESERVED = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "GROUP",
        "BY",
        "ORDER",
        "HAVING",
        "LIMIT",
        "OFFSET",
        "NULL",
        "TRUE",
        "FALSE",
        "ASC",
        "DESC",
        "NULLS",
        "INCLUDES",
        "EXCLUDES",
        "WITH",
        "FOR",
        "USING",
        "TYPEOF",
        "ALL",
        "UPDATE",
        "VIEW",
        "REFERENCE",
        "ROLLUP",
        "CUBE",
    }
)
MAX_OFFSET = 2000
MAX_NESTING = 100


def parse(text: str) -> Query:
    """Parse a SOQL statement. Raises SoqlError(MALFORMED_QUERY) on syntax errors."""
    if not isinstance(text, str):
        raise SoqlError(MALFORMED_QUERY, "query must be a string")
    parser = _Parser(text)
    query = parser.query(top=True)
    parser.expect_eof()
    return query


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = lx.tokenize(text)
        self.i = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != lx.EOF:
            self.i += 1
        return tok

    def is_kw(self, *words: str, tok: Token | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == lx.IDENT and tok.upper in words

    def unexpected(self, tok: Token | None = None) -> SoqlError:
        tok = tok or self.tok
        if tok.kind == lx.EOF:
            return error_at(MALFORMED_QUERY, self.text, tok.pos, "unexpected token: <EOF>")
        if tok.kind == lx.BIND:
            return error_at(MALFORMED_QUERY, self.text, tok.pos, "Bind variables only allowed in Apex code")
        return error_at(MALFORMED_QUERY, self.text, tok.pos, f"unexpected token: '{tok.text}'")

    def expect_kw(self, word: str) -> Token:
        if not self.is_kw(word):
            raise self.unexpected()
        return self.advance()

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            raise self.unexpected()
        return self.advance()

    def expect_eof(self) -> None:
        if self.tok.kind != lx.EOF:
            raise self.unexpected()

    # -- statement -----------------------------------------------------------------------------
    def query(self, top: bool, semi_join: bool = False) -> Query:
        self.expect_kw("SELECT")
        count_only = False
        items: list[SelectItem]
        if self.is_kw("COUNT") and self.peek().kind == lx.LPAREN and self.peek(2).kind == lx.RPAREN:
            count_pos = self.advance().pos
            self.advance()
            self.advance()
            count_only = True
            items = [Aggregate("COUNT", None, count_pos)]
            if self.tok.kind == lx.COMMA:
                raise self.unexpected()
        groups: list[tuple[int, FieldsFunc]] = []
        if not count_only:
            items = []
            for item in self.select_items(allow_subquery=top and not semi_join):
                if isinstance(item, FieldsFunc):
                    groups.append((len(items), item))
                else:
                    items.append(item)
        self.expect_kw("FROM")
        from_tok = self.tok
        if from_tok.kind != lx.IDENT or from_tok.upper in RESERVED:
            raise self.unexpected()
        self.advance()
        query = Query(
            text=self.text,
            select=items,
            from_name=from_tok.text,
            from_pos=from_tok.pos,
            count_only=count_only,
            fields_groups=groups,
        )
        if self.tok.kind == lx.IDENT and self.tok.upper not in RESERVED and "." not in self.tok.text:
            query.from_alias = self.advance().text
        if self.is_kw("USING"):
            self.advance()
            self.expect_kw("SCOPE")
            self.expect(lx.IDENT)  # scope is ignored: the emulator has no sharing model
        if self.is_kw("WHERE"):
            self.advance()
            query.where = self.condition(top=top)
        if self.is_kw("WITH"):
            self.advance()
            if not self.is_kw("SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE"):
                raise self.unexpected()
            query.security_enforced = self.advance().upper == "SECURITY_ENFORCED"
        if self.is_kw("GROUP"):
            self.advance()
            self.expect_kw("BY")
            if self.is_kw("ROLLUP", "CUBE"):
                raise self.unexpected()
            query.group_by = [self.group_key()]
            while self.tok.kind == lx.COMMA:
                self.advance()
                query.group_by.append(self.group_key())
        if self.is_kw("HAVING"):
            if not query.group_by and not any(isinstance(s, Aggregate) for s in items):
                raise self.unexpected()
            self.advance()
            query.having = self.condition(top=False, having=True)
        if self.is_kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            query.order_by = [self.order_item()]
            while self.tok.kind == lx.COMMA:
                self.advance()
                query.order_by.append(self.order_item())
        if self.is_kw("LIMIT"):
            self.advance()
            query.limit = self.integer()
        if self.is_kw("OFFSET"):
            self.advance()
            off_tok = self.tok
            query.offset = self.integer()
            if query.offset > MAX_OFFSET:
                raise error_at(
                    NUMBER_OUTSIDE_VALID_RANGE, self.text, off_tok.pos, f"Maximum SOQL offset allowed is {MAX_OFFSET}"
                )
        if self.is_kw("FOR"):
            self.advance()
            if not self.is_kw("VIEW", "REFERENCE", "UPDATE"):
                raise self.unexpected()
            self.advance()
        if self.is_kw("ALL") and self.is_kw("ROWS", tok=self.peek()):
            # [guess] the API rejects the Apex-only ALL ROWS; queryAll is the REST way
            raise error_at(MALFORMED_QUERY, self.text, self.tok.pos, "ALL ROWS not allowed in this context")
        return query

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != lx.NUMBER or not isinstance(tok.value, int) or tok.text[0] in "+-":
            raise self.unexpected()
        self.advance()
        return int(tok.value)

    # -- select list ---------------------------------------------------------------------------
    def select_items(self, allow_subquery: bool) -> list[SelectItem | FieldsFunc]:
        items = [self.select_item(allow_subquery)]
        while self.tok.kind == lx.COMMA:
            self.advance()
            items.append(self.select_item(allow_subquery))
        return items

    def select_item(self, allow_subquery: bool) -> SelectItem | FieldsFunc:
        tok = self.tok
        if tok.kind == lx.LPAREN:
            if not allow_subquery:
                raise self.unexpected()
            self.advance()
            sub = self.query(top=False)
            self.expect(lx.RPAREN)
            return SubQuery(sub, tok.pos)
        if tok.kind != lx.IDENT or tok.upper in RESERVED:
            raise self.unexpected()
        if (
            tok.upper == "FIELDS"
            and self.peek().kind == lx.LPAREN
            and self.peek(2).kind == lx.IDENT
            and self.peek(2).upper in ("ALL", "STANDARD", "CUSTOM")
            and self.peek(3).kind == lx.RPAREN
        ):
            self.advance()
            self.advance()
            group = self.advance().upper
            self.advance()
            return FieldsFunc(group, tok.pos)
        if self.peek().kind == lx.LPAREN:
            call = self.call(allow_aggregate=True)
            alias = self.alias()
            if isinstance(call, Aggregate):
                return Aggregate(call.func, call.arg, call.pos, alias)
            return DateFunc(call.func, call.arg, call.pos, alias, call.convert)
        ref = self.field_ref()
        alias = self.alias()
        return FieldRef(ref.path, ref.pos, alias) if alias else ref

    def alias(self) -> str | None:
        tok = self.tok
        if tok.kind == lx.IDENT and tok.upper not in RESERVED and "." not in tok.text:
            self.advance()
            return tok.text
        return None

    def is_call(self) -> bool:
        return self.tok.kind == lx.IDENT and self.peek().kind == lx.LPAREN

    def call(self, allow_aggregate: bool) -> Aggregate | DateFunc:
        if self.tok.upper in DATE_FUNCTIONS:
            return self.date_func()
        if not allow_aggregate:
            raise self.unexpected(self.peek())
        return self.aggregate()

    def group_key(self) -> FieldRef | DateFunc:
        if self.is_call():
            call = self.call(allow_aggregate=False)
            assert isinstance(call, DateFunc)
            return call
        return self.field_ref()

    def date_func(self) -> DateFunc:
        name_tok = self.advance()
        self.expect(lx.LPAREN)
        wrapped = self.is_kw("CONVERTTIMEZONE") and self.peek().kind == lx.LPAREN
        if wrapped:  # convertTimezone(f): the date parts are taken in the running user's time zone
            self.advance()
            self.advance()
        arg = self.field_ref()
        if wrapped:
            self.expect(lx.RPAREN)
        self.expect(lx.RPAREN)
        return DateFunc(name_tok.upper, arg, name_tok.pos, convert=wrapped)

    def aggregate(self) -> Aggregate:
        name_tok = self.advance()
        func = name_tok.upper
        if func not in AGGREGATES:
            raise self.unexpected(name_tok)
        self.expect(lx.LPAREN)
        if func == "COUNT" and self.tok.kind == lx.RPAREN:
            # COUNT() only stands alone as the whole select list
            raise self.unexpected()
        arg = self.field_ref()
        self.expect(lx.RPAREN)
        return Aggregate(func, arg, name_tok.pos)

    def field_ref(self) -> FieldRef:
        tok = self.tok
        if tok.kind != lx.IDENT or tok.upper in RESERVED:
            raise self.unexpected()
        self.advance()
        return FieldRef(tuple(tok.text.split(".")), tok.pos)

    def order_item(self) -> OrderItem:
        expr: FieldRef | Aggregate | DateFunc = self.call(allow_aggregate=True) if self.is_call() else self.field_ref()
        descending = False
        nulls_last: bool | None = None
        if self.is_kw("ASC", "DESC"):
            descending = self.advance().upper == "DESC"
        if self.is_kw("NULLS"):
            self.advance()
            if not self.is_kw("FIRST", "LAST"):
                raise self.unexpected()
            nulls_last = self.advance().upper == "LAST"
        return OrderItem(expr, descending, nulls_last)

    # -- conditions ----------------------------------------------------------------------------
    def condition(self, top: bool, having: bool = False) -> Condition:
        if self.is_kw("NOT"):
            not_tok = self.advance()
            first: Condition = Not(self.simple(top, having), not_tok.pos)
        else:
            first = self.simple(top, having)
        if not self.is_kw("AND", "OR"):
            return first
        op_tok = self.tok
        op = op_tok.upper
        items = [first]
        while self.is_kw("AND", "OR"):
            if self.tok.upper != op:
                raise self.unexpected()  # Salesforce requires parentheses when mixing AND and OR
            self.advance()
            if self.is_kw("NOT"):
                raise self.unexpected()  # "a AND NOT b" is rejected; "a AND (NOT b)" is fine
            items.append(self.simple(top, having))
        return BoolOp(op, items, op_tok.pos)

    def simple(self, top: bool, having: bool) -> Condition:
        if self.tok.kind == lx.LPAREN:
            if self.depth >= MAX_NESTING:  # keep hostile input from exhausting the Python stack
                raise self.unexpected()
            self.depth += 1
            self.advance()
            inner = self.condition(top, having)
            self.expect(lx.RPAREN)
            self.depth -= 1
            return inner
        left_tok = self.tok
        left: FieldRef | Aggregate | DateFunc
        left = self.call(allow_aggregate=having) if self.is_call() else self.field_ref()
        op_tok = self.tok
        if op_tok.kind == lx.OP:
            self.advance()
            value_tok = self.tok
            return Comparison(left, str(op_tok.value), self.literal(), left_tok.pos, value_tok.pos)
        if self.is_kw("LIKE"):
            self.advance()
            value_tok = self.tok
            lit = self.literal()
            if lit.kind not in ("string", "null"):
                raise self.unexpected(value_tok)
            return Comparison(left, "LIKE", lit, left_tok.pos, value_tok.pos)
        if self.is_kw("NOT") and self.is_kw("IN", tok=self.peek()):
            self.advance()
            self.advance()
            return self.in_list(left, "NOT IN", left_tok.pos, top)
        if self.is_kw("IN"):
            self.advance()
            return self.in_list(left, "IN", left_tok.pos, top)
        if self.is_kw("INCLUDES", "EXCLUDES"):
            op = self.advance().upper
            return self.in_list(left, op, left_tok.pos, top=False)
        raise self.unexpected()

    def in_list(self, left: FieldRef | Aggregate | DateFunc, op: str, pos: int, top: bool) -> Comparison:
        lparen = self.tok
        if lparen.kind == lx.BIND:
            raise self.unexpected()
        self.expect(lx.LPAREN)
        if self.is_kw("SELECT"):
            if not top or op not in ("IN", "NOT IN"):
                raise self.unexpected()
            sub = self.query(top=False, semi_join=True)
            self.expect(lx.RPAREN)
            return Comparison(left, op, sub, pos, lparen.pos + 1)
        values = [self.literal()]
        while self.tok.kind == lx.COMMA:
            self.advance()
            values.append(self.literal())
        self.expect(lx.RPAREN)
        return Comparison(left, op, values, pos, lparen.pos + 1)

    def literal(self) -> Literal:
        tok = self.tok
        if tok.kind == lx.STRING:
            self.advance()
            return Literal("string", tok.value, tok.pos, raw=tok.raw)
        if tok.kind == lx.NUMBER:
            self.advance()
            return Literal("number", tok.value, tok.pos)
        if tok.kind == lx.DATE:
            self.advance()
            return Literal("date", tok.value, tok.pos)
        if tok.kind == lx.DATETIME:
            self.advance()
            return Literal("datetime", tok.value, tok.pos)
        if tok.kind == lx.IDENT:
            word = tok.upper
            if word == "NULL":
                self.advance()
                return Literal("null", None, tok.pos)
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Literal("boolean", word == "TRUE", tok.pos)
            if word in DATE_LITERALS:
                self.advance()
                return Literal("dateliteral", (word, None), tok.pos)
            if word in N_DATE_LITERALS:
                self.advance()
                self.expect(lx.COLON)
                n_tok = self.tok
                if n_tok.kind != lx.NUMBER or not isinstance(n_tok.value, int) or n_tok.value < 0:
                    raise self.unexpected()
                self.advance()
                return Literal("dateliteral", (word, int(n_tok.value)), tok.pos)
            if word not in RESERVED:
                # a bare name where a value belongs: Salesforce reads it as an Apex bind
                raise error_at(MALFORMED_QUERY, self.text, tok.pos, "Bind variables only allowed in Apex code")
        raise self.unexpected()
