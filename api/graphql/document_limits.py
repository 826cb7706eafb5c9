"""Limits on a GraphQL document — size, depth, aliases and cost — checked in one pass linear in its size.

Cost model (docs/api-limits.md): every field costs 1; a field's sub-selection is counted once per item the field
may return: its ``first``/``limit``/``count`` argument (a variable counts as ``max_page_size``, the largest page
the services accept), else the argument's schema default, else ``default_list_size`` for a list field. List
fields of a ``…Connection`` type are paged by the field that returned the connection and multiply by 1.

Why not Strawberry's ``QueryDepthLimiter``/``MaxAliasesLimiter``: they walk a fragment again at every spread, so a
document whose fragments each spread the previous one twice costs 2^levels (20 levels: 10 s on the event loop).
Here each fragment is measured once, in dependency order, and a spread reuses its summary; the walk over
fragments is iterative (a chain of spreads cannot exhaust the stack) and stops at cycles. Nesting within one
definition is bounded by graphql-core's parser (``MAX_NESTING_DEPTH`` = 200), so the recursion below is too.

The check runs before graphql-core's own rules, which only see documents within these limits: measured on the
adversarial shapes in ``bench/graphql_validation.py``, those stay linear once tokens and bytes are bounded.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    parse,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from protocol.errors import ErrorCode

PAGE_ARGUMENTS = ("first", "limit", "count")
"""Arguments that say how many items a field returns."""

_META_FIELDS = frozenset({"__schema", "__type"})

_CAP = 10**15
"""Counts saturate here: a document of fragments that double per level would otherwise make numbers of 2^levels
digits (still linear work, but pointless)."""


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_bytes: int = 8 * 1024
    """Largest document (UTF-8 bytes), refused before the lexer sees it. The standard introspection query is
    ~1.5 kB, our largest documents ~0.5 kB."""
    max_tokens: int = 1000
    """graphql-core's parser stops after this many tokens: parsing and validation time grow with them (5,000
    tokens: ~100 ms each on a loaded 2-core host). Introspection counts ~180, our largest documents ~85."""
    max_depth: int = 12
    """Deepest field nesting below an operation's root fields (``{ me { id } }`` is 1), fragments expanded."""
    max_aliases: int = 30
    """Aliased fields per operation, fragments expanded at each spread."""
    max_cost: int = 20_000
    """Largest operation cost (model in the module docstring). The web client's costliest document costs 162;
    the test suite's chat history at its largest page (100 messages with reactions) 9,001."""
    default_list_size: int = 20
    """Items assumed for a list field without a page-size argument."""
    max_page_size: int = 100
    """Items assumed for a page size given by a variable: the largest ``first`` the services accept."""
    max_operations: int = 10
    """Operations in one document (one runs; graphql-core validates them all)."""
    max_variables: int = 30
    """Variables declared in the document."""
    max_directives: int = 20
    """Directives anywhere in the document (graphql-core reports each repeated one)."""
    max_nesting: int = 24
    """Selection sets nested on one path, inline fragments and spreads included (introspection: ~15); also
    the nesting of list and object literals in arguments (graphql-core prints them into its errors)."""
    max_same_name: int = 5
    """Fields sharing one response name in one selection set, fragments spread there included: graphql-core's
    OverlappingFieldsCanBeMerged compares them pairwise (199 ``me { id email }`` in one selection set: 1.4 s).
    Our own documents merge at most 2."""
    max_merged_fragments: int = 8
    """Fragments reachable by spreads from one selection set: the same rule compares them pairwise."""
    max_introspection_lists: int = 3
    """Introspection list fields nested on one path: the standard query needs 3 (``types { fields { args``);
    ``types { fields { type { fields …`` multiplies the schema by itself at each level."""


@dataclass(frozen=True, slots=True)
class Measure:
    """What one selection set (or operation) adds up to, fragments expanded."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    introspection_lists: int = 0
    """Most introspection list fields nested on one path (``types { fields { args``: 3)."""

    def plus(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            min(_CAP, self.aliases + other.aliases),
            min(_CAP, self.cost + other.cost),
            max(self.introspection_lists, other.introspection_lists),
        )


_ZERO = Measure()


def bad_input(message: str, nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": ErrorCode.BAD_INPUT.value})


def utf8_length(text: str) -> int:
    # Cheap bound first: a str never has more UTF-8 bytes than 4 per character, nor fewer than 1.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class _Measurer:
    def __init__(self, schema: GraphQLSchema, limits: DocumentLimits) -> None:
        self.schema = schema
        self.limits = limits
        self.fragments: dict[str, Measure] = {}

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> Measure:
        total = _ZERO
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total = total.plus(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                cond = selection.type_condition
                inner = self.schema.get_type(cond.name.value) if cond else parent
                total = total.plus(self.selection_set(selection.selection_set, inner))
            elif isinstance(selection, FragmentSpreadNode):
                # Unknown or cyclic fragments count as nothing here; graphql-core's rules report them.
                total = total.plus(self.fragments.get(selection.name.value, _ZERO))
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        name = node.name.value
        definition = self._definition(name, parent)
        aliases = 1 if node.alias else 0
        # Inside __schema/__type (fields of the __-named types) nothing counts towards depth or cost, as in
        # Strawberry's depth limiter: the standard introspection query nests 14 deep. The schema bounds each
        # list there; nesting them is what multiplies, so that is limited instead.
        introspective = parent is not None and parent.name.startswith("__")
        if node.selection_set is None:
            return Measure(0, aliases, 0 if introspective else 1)
        child_type = get_named_type(definition.type) if definition is not None else None
        inner = self.selection_set(node.selection_set, child_type)
        if introspective or name in _META_FIELDS:
            is_list = definition is not None and isinstance(get_nullable_type(definition.type), GraphQLList)
            return Measure(
                inner.depth,
                min(_CAP, aliases + inner.aliases),
                0 if introspective else 1,
                inner.introspection_lists + (1 if is_list else 0),
            )
        times = self._items(node, definition, parent)
        return Measure(
            inner.depth + 1,
            min(_CAP, aliases + inner.aliases),
            min(_CAP, 1 + times * inner.cost),
            inner.introspection_lists,
        )

    def _definition(self, name: str, parent: GraphQLNamedType | None) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is not None and parent is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            found: GraphQLField | None = parent.fields.get(name)
            return found
        return None

    def _items(self, node: FieldNode, definition: GraphQLField | None, parent: GraphQLNamedType | None) -> int:
        """How many times the field's sub-selection counts."""
        if definition is None:
            return 1
        for argument in node.arguments or ():
            if argument.name.value in PAGE_ARGUMENTS:
                value = argument.value
                if isinstance(value, IntValueNode):
                    # A literal of 5,000 digits must not reach int() (it refuses > 4,300 digits).
                    return max(0, int(value.value)) if len(value.value) <= 15 else _CAP
                if isinstance(value, VariableNode):
                    return self.limits.max_page_size
                return 1  # not an Int: argument coercion rejects it
        for name in PAGE_ARGUMENTS:
            arg = definition.args.get(name)
            if arg is not None and isinstance(arg.default_value, int):
                return max(0, arg.default_value)
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            if parent is not None and parent.name.endswith("Connection"):
                return 1
            return self.limits.default_list_size
        return 1


def _fragment_order(fragments: dict[str, FragmentDefinitionNode]) -> tuple[list[str], list[str]]:
    """Fragments in dependency order (a fragment after those it spreads), and the fragments that close a cycle.

    Iterative depth-first search: O(fragments + spreads), no recursion however long a chain of spreads is.
    """
    spreads = {name: _spreads_of(f.selection_set) for name, f in fragments.items()}
    done: set[str] = set()
    order: list[str] = []
    cyclic: list[str] = []
    for root in fragments:
        if root in done:
            continue
        path: list[tuple[str, Iterator[str]]] = [(root, iter(spreads[root]))]
        on_path = {root}
        while path:
            name, pending = path[-1]
            for target in pending:
                if target in on_path:
                    cyclic.append(target)
                elif target in spreads and target not in done:
                    path.append((target, iter(spreads[target])))
                    on_path.add(target)
                    break
            else:
                path.pop()
                on_path.discard(name)
                done.add(name)
                order.append(name)
    return order, cyclic


def _spreads_of(node: SelectionSetNode) -> list[str]:
    names: list[str] = []
    stack = [node]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif selection.selection_set is not None:  # type: ignore[attr-defined]
                stack.append(selection.selection_set)  # type: ignore[attr-defined]
    return names


@dataclass(frozen=True, slots=True)
class Shape:
    """Document-wide numbers that drive graphql-core's superlinear rules; each is checked against a limit."""

    operations: int = 0
    variables: int = 0
    directives: int = 0
    nesting: int = 0
    value_nesting: int = 0
    same_name: int = 0
    same_name_example: str = ""
    merged_fragments: int = 0

    def violations(self, limits: DocumentLimits) -> list[str]:
        checks = (
            (self.operations, limits.max_operations, f"the document has {self.operations} operations"),
            (self.variables, limits.max_variables, f"the document declares {self.variables} variables"),
            (self.directives, limits.max_directives, f"the document has {self.directives} directives"),
            (self.nesting, limits.max_nesting, f"the document nests selections {self.nesting} deep"),
            (self.value_nesting, limits.max_nesting, f"an argument value nests {self.value_nesting} deep"),
            (
                self.same_name,
                limits.max_same_name,
                f'a selection set merges {self.same_name} fields named "{self.same_name_example}"',
            ),
            (
                self.merged_fragments,
                limits.max_merged_fragments,
                f"a selection set spreads {self.merged_fragments} fragments",
            ),
        )
        return [f"{message}; the limit is {limit}" for value, limit, message in checks if value > limit]


def _level(node: SelectionSetNode) -> tuple[Counter[str], set[str]]:
    """Response names of the fields one selection set merges (inline fragments included) and its spreads."""
    names: Counter[str] = Counter()
    spreads: set[str] = set()
    stack = [node]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                names[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                spreads.add(selection.name.value)
    return names, spreads


def _nesting(node: SelectionSetNode, fragment_nesting: dict[str, int]) -> int:
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, depth + fragment_nesting.get(selection.name.value, 0))
            elif selection.selection_set is not None:  # type: ignore[attr-defined]
                stack.append((selection.selection_set, depth + 1))  # type: ignore[attr-defined]
    return deepest


def _value_nesting(node: FieldNode) -> int:
    deepest = 0
    stack = [(argument.value, 1) for argument in node.arguments or ()]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(value, ListValueNode):
            stack.extend((item, depth + 1) for item in value.values)
        elif isinstance(value, ObjectValueNode):
            stack.extend((f.value, depth + 1) for f in value.fields)
    return deepest


def measure_shape(document: DocumentNode, limits: DocumentLimits) -> Shape:
    """One pass over the document, each fragment summarised once: operations, variables, directives, nesting
    (through spreads), and the widest merge of same-named fields and of fragments in one selection set.

    Sets of reachable fragments are capped just over the limit, so a long chain of spreads costs
    O(fragments x limit), not O(fragments^2); the pass stops at the first selection set over a limit.
    """
    cap = limits.max_merged_fragments + 1
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
    order, cyclic = _fragment_order(fragments)
    own = {name: _level(f.selection_set) for name, f in fragments.items()}
    reach: dict[str, frozenset[str]] = {}
    nest: dict[str, int] = {}
    for name in order:
        if name in cyclic:
            continue
        closure = {name}
        for spread in own[name][1]:
            if len(closure) >= cap:
                break
            closure |= reach.get(spread, frozenset())
        reach[name] = frozenset(closure)
        nest[name] = _nesting(fragments[name].selection_set, nest)
    operations = variables = directives = nesting = value_nesting = same_name = merged = 0
    example = ""
    sets: list[SelectionSetNode] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            operations += 1
            variables += len(definition.variable_definitions or ())
            directives += sum(len(v.directives or ()) for v in definition.variable_definitions or ())
            nesting = max(nesting, _nesting(definition.selection_set, nest))
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            directives += len(definition.directives or ())
            sets.append(definition.selection_set)

    def shape() -> Shape:
        return Shape(operations, variables, directives, nesting, value_nesting, same_name, example, merged)

    while sets:
        if shape().violations(limits):
            break
        current = sets.pop()
        names, spreads = _level(current)
        reached: set[str] = set()
        for spread in spreads:
            if len(reached) >= cap:
                break
            reached |= reach.get(spread, frozenset())
        merged = max(merged, len(reached))
        if merged >= cap:
            break
        for fragment in reached:
            names.update(own[fragment][0])
        if names:
            name, count = names.most_common(1)[0]
            if count > same_name:
                same_name, example = count, name
        for selection in current.selections:
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                value_nesting = max(value_nesting, _value_nesting(selection))
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                sets.append(inner)
    return shape()


def measure_operations(schema: GraphQLSchema, document: DocumentNode, limits: DocumentLimits) -> dict[str, Measure]:
    """Each operation's measure (anonymous operations under ""), fragments expanded."""
    measurer = _Measurer(schema, limits)
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
    order, cyclic = _fragment_order(fragments)
    skip = set(cyclic)
    for name in order:
        if name in skip:
            continue
        fragment = fragments[name]
        measurer.fragments[name] = measurer.selection_set(
            fragment.selection_set, schema.get_type(fragment.type_condition.name.value)
        )
    roots = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }
    result: dict[str, Measure] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else ""
            result[name] = measurer.selection_set(definition.selection_set, roots.get(definition.operation))
    return result


def check_document(schema: GraphQLSchema, document: DocumentNode, limits: DocumentLimits) -> list[GraphQLError]:
    """Errors for every operation over a limit; empty when the document is within them."""
    errors: list[GraphQLError] = []
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
    _, cyclic = _fragment_order(fragments)
    for name in dict.fromkeys(cyclic):
        errors.append(bad_input(f'Cannot spread fragment "{name}" within itself.', fragments[name]))
    if errors:
        return errors
    errors.extend(bad_input(message) for message in measure_shape(document, limits).violations(limits))
    if errors:
        # Before measuring operations: these bound the work graphql-core's rules (run next) would do.
        return errors
    nodes = {d.name.value if d.name else "": d for d in document.definitions if isinstance(d, OperationDefinitionNode)}
    for name, m in measure_operations(schema, document, limits).items():
        label = f'operation "{name}"' if name else "the operation"
        node = nodes[name]
        if m.depth > limits.max_depth:
            errors.append(bad_input(f"{label} nests fields {m.depth} deep; the limit is {limits.max_depth}", node))
        if m.aliases > limits.max_aliases:
            errors.append(bad_input(f"{label} has {m.aliases} aliases; the limit is {limits.max_aliases}", node))
        if m.introspection_lists > limits.max_introspection_lists:
            errors.append(
                bad_input(
                    f"{label} nests {m.introspection_lists} introspection lists; "
                    f"the limit is {limits.max_introspection_lists}",
                    node,
                )
            )
        if m.cost > limits.max_cost:
            shown = f"over {_CAP:,}" if m.cost >= _CAP else f"{m.cost:,}"
            errors.append(bad_input(f"{label} costs {shown}; the limit is {limits.max_cost:,}", node))
    return errors


Validator = Callable[[GraphQLSchema, DocumentNode, tuple[type[ASTValidationRule], ...]], list[GraphQLError]]


def make_validator(limits: DocumentLimits, cache_size: int) -> Validator:
    """Our limits, then (only for documents within them) graphql-core's and Strawberry's rules; LRU-cached on
    the parsed document, which ParserCache hands out as the same object for the same text."""

    @functools.lru_cache(maxsize=cache_size)
    def validate(
        schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        return check_document(schema, document, limits) or validate_document(schema, document, rules)

    return validate


Parser = Callable[[str], DocumentNode]


def make_parser(limits: DocumentLimits, cache_size: int) -> Parser:
    """Parse with the byte and token limits, LRU-cached on the text (the same text gives the same document
    object, which the validation cache keys on). Raises GraphQLError (GraphQLSyntaxError from the parser)."""

    @functools.lru_cache(maxsize=cache_size)
    def parse_bounded(query: str) -> DocumentNode:
        if len(query) > limits.max_bytes // 4:  # cheap first: no str has more than 4 UTF-8 bytes a character
            size = utf8_length(query)
            if size > limits.max_bytes:
                raise bad_input(f"the document is {size:,} bytes; the limit is {limits.max_bytes:,}")
        return parse(query, max_tokens=limits.max_tokens)

    return parse_bounded


class DocumentLimiter(SchemaExtension):
    """Replaces Strawberry's ValidationCache and depth/alias limiters: validates through ``make_validator``
    (our limits first, then the standard rules; cached). Parsing is bounded in ``MeetmeshSchema``."""

    def __init__(self, validate: Validator) -> None:
        super().__init__()
        self.validate = validate

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        ctx.pre_execution_errors = self.validate(ctx.schema._schema, ctx.graphql_document, tuple(ctx.validation_rules))
        yield
