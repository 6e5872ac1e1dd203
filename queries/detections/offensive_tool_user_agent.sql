-- id: offensive_tool_user_agent
-- title: Offensive tooling user agent
-- severity: high
-- attack: T1078.004, T1580
-- events: *
-- description: Calls whose user agent names an offensive or audit tool (TruffleHog, Pacu, ScoutSuite, CloudSploit,
-- description: CloudMapper, S3 Browser, Kali or Parrot Linux, Stratus Red Team, Prowler...; the list is the agents
-- description: parameter, case-insensitive substrings). One hit per principal, access key, user agent and day: the
-- description: first call, with the number of calls in the details.
-- description: Request shapes read: none (userAgent, eventName and errorCode only).
-- false_positives: Sanctioned penetration tests and posture audits (Prowler, ScoutSuite); administrators running S3
-- false_positives: Browser. The user agent is chosen by the caller: its absence proves nothing.
-- references: https://attack.mitre.org/techniques/T1078/004/,
-- references: https://github.com/trufflesecurity/trufflehog, https://github.com/RhinoSecurityLabs/pacu
-- param: agents text trufflehog,pacu,scoutsuite,cloudsploit,cloudmapper,s3 browser,kali,parrot,stratus-red-team,prowler,pmapper,cloudfox,weirdaal | Comma-separated user-agent substrings (case-insensitive)
WITH agents AS (   -- distinct user agents first: the list is matched against a few thousand strings
    SELECT DISTINCT user_agent FROM events WHERE user_agent IS NOT NULL
),
tooled AS (
    SELECT user_agent, regexp_extract_all(lower(user_agent), array_to_string(list_transform(
               list_filter(string_split(lower($agents), ','), lambda a: trim(a) <> ''),
               lambda a: regexp_escape(trim(a))), '|')) AS tools
    FROM agents
    WHERE regexp_matches(lower(user_agent), array_to_string(list_transform(
              list_filter(string_split(lower($agents), ','), lambda a: trim(a) <> ''),
              lambda a: regexp_escape(trim(a))), '|'))
),
matched AS (
    SELECT e.event_time, e.actor, e.user_identity_access_key_id, e.source_ip_address, e.user_agent, e.aws_region,
           e.recipient_account_id, e.event_name, e.event_id, e.error_code, t.tools
    FROM events e JOIN tooled t ON e.user_agent = t.user_agent
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       array_to_string(list_distinct(tools), '/') || ' user agent: ' || calls || ' call(s) (' || names
       || ' distinct, ' || failed || ' failed) that day' AS details
FROM (
    SELECT *, count(*) OVER g AS calls, count(DISTINCT event_name) OVER g AS names,
           count(*) FILTER (WHERE error_code IS NOT NULL) OVER g AS failed
    FROM matched
    WINDOW g AS (PARTITION BY coalesce(actor, ''), coalesce(user_identity_access_key_id, ''), user_agent,
                              date_trunc('day', event_time))
)
QUALIFY row_number() OVER (PARTITION BY coalesce(actor, ''), coalesce(user_identity_access_key_id, ''), user_agent,
                                        date_trunc('day', event_time) ORDER BY event_time, event_id) = 1
ORDER BY event_time
