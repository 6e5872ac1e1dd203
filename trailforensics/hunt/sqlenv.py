"""What the detections' SQL can use besides the ``events`` view: the ``known_accounts`` table
and a few ``tfh_*`` macros (created on the hunt's connection before the detections run).

Macros (all NULL-safe):

* ``tfh_ok(error_code, response_elements, event_name)``: the call succeeded: no error code and,
  for sign-in events, the response does not say ``Failure`` (``{"ConsoleLogin": "Failure"}``);
* ``tfh_denied(error_code)``: the call was refused for lack of permission (``AccessDenied``,
  ``Client.UnauthorizedOperation``, ``*NotAuthorized*``...) or was a dry run (``DryRunOperation``):
  an attempt, which detections report one severity lower (an ``attempt`` column);
* ``tfh_name(arn, user_name)``: the short name of a principal (last ARN path element: the user
  name of an IAM user, the session name of a role session), else ``user_name``;
* ``tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor)``: a stable
  principal for first-seen baselines: the role of an assumed-role session (session names change
  with every session), except IAM Identity Center sessions (their session name is the person);
* ``tfh_doc(json)``: a policy document whether it was logged as an object or as a JSON string;
* ``tfh_list(json)``: a JSON array as a list of JSON values (a single object is wrapped, anything
  else gives an empty list): CloudTrail logs one-element lists as bare objects in places;
* ``tfh_statements(doc)``: the ``Statement`` of a policy document as a list;
* ``tfh_public_statement(stmt)``: an ``Allow`` statement for ``"*"`` / ``{"AWS": "*"}`` without a
  restricting condition (org id, source account/ARN/VPC/VPCE/IP, principal ARN/account...);
* ``tfh_policy_public(json)``: any statement of the policy is public;
* ``tfh_policy_accounts(json)``: the 12-digit account ids named in the ``Allow`` principals;
* ``tfh_known()``: the known account ids as a list; ``tfh_unknown(list)``: those of a list
  that are not known;
* ``tfh_arn_account(arn)``: the account id inside an ARN;
* ``tfh_private_ip(text)``: RFC 1918, CGNAT, loopback, link-local and IPv6 ULA/link-local
  (``tfh_private_ipv4(n)`` does the IPv4 test on ``tf_ipv4_int``'s integer);
* ``tfh_is_ip(text)``: an IPv4 or IPv6 address (not a service name such as ``AWS Internal``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from trailforensics.errors import TrailforensicsError

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

_RESTRICTING_KEYS = (
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:resourceorgid",
    "aws:userid",
    "kms:calleraccount",
    "kms:viaservice",
    "lambda:functionurlauthtype",
)
_RESTRICTING_RE = '"(' + "|".join(re.escape(k) for k in _RESTRICTING_KEYS) + ')"'

HUNT_MACROS = rf"""
CREATE OR REPLACE MACRO tfh_ok(err, resp, name) AS
    err IS NULL AND NOT coalesce(json_extract_string(resp, tf_pointer(name)) = 'Failure', false);
CREATE OR REPLACE MACRO tfh_denied(err) AS coalesce(regexp_matches(lower(err),
    '(accessdenied|unauthorized|notauthorized|forbidden|authorizationerror|dryrunoperation)'), false);
CREATE OR REPLACE MACRO tfh_name(arn, user_name) AS
    coalesce(nullif(regexp_extract(arn, '/([^/]+)$', 1), ''), user_name);
CREATE OR REPLACE MACRO tfh_principal(kind, arn, issuer_arn, actor) AS CASE
    WHEN kind = 'AssumedRole' AND NOT coalesce(contains(arn, ':assumed-role/AWSReservedSSO_'), false)
        THEN coalesce(issuer_arn, actor)
    ELSE actor END;
CREATE OR REPLACE MACRO tfh_doc(j) AS CASE
    WHEN j IS NULL THEN NULL
    WHEN json_type(j) = 'VARCHAR' THEN
        CASE WHEN json_valid(json_extract_string(j, '$')) THEN json(json_extract_string(j, '$')) END
    WHEN json_type(j) = 'OBJECT' THEN json(j)
    END;
CREATE OR REPLACE MACRO tfh_list(j) AS CASE json_type(j)
    WHEN 'ARRAY' THEN json_extract(j, '$[*]')
    WHEN 'OBJECT' THEN [json(j)]
    ELSE CAST([] AS JSON[]) END;
CREATE OR REPLACE MACRO tfh_statements(doc) AS tfh_list(json_extract(doc, '$.Statement'));
CREATE OR REPLACE MACRO tfh_public_statement(s) AS
    coalesce(json_extract_string(s, '$.Effect') = 'Allow', false)
    AND coalesce('*' IN (json_extract_string(s, '$.Principal'), json_extract_string(s, '$.Principal.AWS'))
                 OR list_contains(json_extract_string(s, '$.Principal.AWS[*]'), '*'), false)
    AND NOT coalesce(regexp_matches(lower(CAST(json_extract(s, '$.Condition') AS VARCHAR)),
                                    '{_RESTRICTING_RE}'), false);
CREATE OR REPLACE MACRO tfh_policy_public(j) AS
    len(list_filter(tfh_statements(tfh_doc(j)), lambda s: tfh_public_statement(s))) > 0;
CREATE OR REPLACE MACRO tfh_policy_accounts(j) AS list_distinct(flatten(list_transform(
    list_filter(tfh_statements(tfh_doc(j)),
                lambda s: coalesce(json_extract_string(s, '$.Effect') = 'Allow', false)),
    lambda s: regexp_extract_all(coalesce(CAST(json_extract(s, '$.Principal') AS VARCHAR), ''),
                                 '(?:^|[^0-9])([0-9]{{12}})(?:[^0-9]|$)', 1))));
CREATE OR REPLACE MACRO tfh_known() AS CAST(getvariable('tfh_known_accounts') AS VARCHAR[]);
CREATE OR REPLACE MACRO tfh_unknown(l) AS
    list_filter(l, lambda a: a IS NOT NULL AND NOT list_contains(tfh_known(), a));
CREATE OR REPLACE MACRO tfh_arn_account(arn) AS
    nullif(regexp_extract(arn, '^arn:[^:]*:[^:]*:[^:]*:([0-9]{{12}}):', 1), '');
CREATE OR REPLACE MACRO tfh_private_ipv4(n) AS
    n BETWEEN 167772160 AND 184549375 OR n BETWEEN 2886729728 AND 2887778303
    OR n BETWEEN 3232235520 AND 3232301055 OR n BETWEEN 1681915904 AND 1686110207
    OR n BETWEEN 2130706432 AND 2147483647 OR n BETWEEN 2851995648 AND 2852061183;
CREATE OR REPLACE MACRO tfh_private_ip(ip) AS CASE
    WHEN tf_ipv4_int(ip) IS NOT NULL THEN tfh_private_ipv4(tf_ipv4_int(ip))
    ELSE coalesce(regexp_matches(lower(ip), '^(f[cd][0-9a-f]{{0,2}}:|fe80:|::1$)'), false) END;
CREATE OR REPLACE MACRO tfh_is_ip(ip) AS
    tf_ipv4_int(ip) IS NOT NULL OR coalesce(regexp_full_match(lower(ip), '[0-9a-f:.]*:[0-9a-f:.]*'), false);
"""

_ACCOUNT_RE = re.compile(r"^\d{12}$")


class KnownAccountsError(TrailforensicsError, ValueError):
    pass


def read_known_accounts(path: Path) -> list[str]:
    """One account id per line; ``#`` starts a comment; blank lines are ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise KnownAccountsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    accounts: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if not _ACCOUNT_RE.match(value):
            raise KnownAccountsError(f"{path}:{n}: {value!r} is not a 12-digit AWS account id")
        accounts.append(value)
    return accounts


def prepare(ds: Dataset, known_accounts: Iterable[str] | None = None) -> None:
    """Create the macros and the ``known_accounts`` table on the dataset's connection."""
    extra = sorted({a.strip() for a in (known_accounts or []) if a and a.strip()})
    ds.con.execute(
        "CREATE OR REPLACE TEMP TABLE known_accounts AS "
        "SELECT DISTINCT account_id FROM ("
        "  SELECT recipient_account_id AS account_id FROM events"
        "  UNION ALL SELECT unnest(CAST(? AS VARCHAR[])) AS account_id"
        ") WHERE account_id IS NOT NULL AND account_id <> ''",
        [extra],
    )
    ds.con.execute(
        "SET VARIABLE tfh_known_accounts = "
        "(SELECT coalesce(list(account_id ORDER BY account_id), []) FROM known_accounts)"
    )
    ds.con.execute(HUNT_MACROS)
