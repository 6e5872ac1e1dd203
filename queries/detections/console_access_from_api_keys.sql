-- id: console_access_from_api_keys
-- title: Console access minted from API credentials
-- severity: medium
-- attack: T1550.001, T1098.001
-- events: signin.amazonaws.com:GetSigninToken, sts.amazonaws.com:GetFederationToken, sts.amazonaws.com:GetSessionToken
-- description: Ways to turn access keys into a console session or into fresh credentials: GetSigninToken called by
-- description: something other than the AWS federation endpoint (the aws_consoler pattern); GetFederationToken
-- description: granting administrator rights; GetSessionToken without MFA (first per IAM user); and the first
-- description: GetFederationToken or GetSessionToken of an IAM user that was active for at least min_history_hours
-- description: in the dataset without calling it (new behaviour for a known user). A broker whose first token call
-- description: opens the dataset has no history to be judged against and is not reported for it.
-- description: Request shapes read: GetFederationToken policyArns (a list of {arn}, or one object) and policy (a
-- description: JSON string or an object; Statement a list or one object; Action / Resource a list or one string:
-- description: an Allow of * or *:* on * is administrator rights), name; GetSessionToken serialNumber (absent: no
-- description: MFA); GetSigninToken none (userAgent only).
-- false_positives: Custom federation brokers and developers who start using MFA-protected CLI sessions (only their
-- false_positives: first call is reported).
-- references: https://attack.mitre.org/techniques/T1550/001/,
-- references: https://github.com/NetSPI/aws_consoler,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.sts-federation-token/
-- param: min_history_hours int 12 | Activity a user needs in the dataset before a first token call is new behaviour
WITH candidates AS (
    SELECT *, request_parameters AS rp
    FROM events
    WHERE event_name IN ('GetSigninToken', 'GetFederationToken', 'GetSessionToken')
      AND event_source IN ('signin.amazonaws.com', 'sts.amazonaws.com')
      AND tfh_ok(error_code, response_elements, event_name)
),
firsts AS (   -- the first GetFederationToken / GetSessionToken of each IAM user
    SELECT * FROM candidates
    WHERE event_name IN ('GetFederationToken', 'GetSessionToken') AND user_identity_type = 'IAMUser'
    QUALIFY row_number() OVER (PARTITION BY actor, event_name ORDER BY event_time, event_id) = 1
),
seen AS (   -- whole-dataset baseline: when those users were first active
    SELECT actor, min(event_time) AS actor_first
    FROM main.events
    WHERE actor IN (SELECT actor FROM firsts) AND event_time IS NOT NULL
    GROUP BY actor
),
tokens AS (
    SELECT c.*,
           c.event_name = 'GetFederationToken'
           AND (list_contains(list_transform(tfh_list(c.rp->'$.policyArns'),
                                             lambda p: regexp_extract(p->>'$.arn', '[^/]+$')), 'AdministratorAccess')
                OR len(list_filter(tfh_statements(tfh_doc(c.rp->'$.policy')), lambda s:
                       coalesce((s->>'$.Effect') = 'Allow', false)
                       AND list_has_any(list_concat(coalesce(s->>'$.Action[*]', []), [s->>'$.Action']), ['*', '*:*'])
                       AND list_has_any(list_concat(coalesce(s->>'$.Resource[*]', []), [s->>'$.Resource']), ['*'])))
                   > 0) AS admin,
           f.event_id IS NOT NULL AS first,
           f.event_id IS NOT NULL AND s.actor_first <= c.event_time - to_hours($min_history_hours) AS new_habit,
           c.event_name = 'GetSessionToken' AND (c.rp->>'$.serialNumber') IS NULL AS no_mfa,
           s.actor_first
    FROM candidates c
    LEFT JOIN firsts f ON f.event_id = c.event_id
    LEFT JOIN seen s ON s.actor = c.actor
    WHERE c.event_name IN ('GetFederationToken', 'GetSessionToken') AND c.user_identity_type = 'IAMUser'
),
hits AS (
    SELECT * EXCLUDE (rp), 'GetSigninToken by ' || coalesce(user_identity_type, '?') || ' with user agent '
              || coalesce(user_agent, '(none)') AS details
    FROM candidates
    WHERE event_name = 'GetSigninToken' AND NOT coalesce(user_agent LIKE 'Jersey/%', false)
    UNION ALL
    SELECT * EXCLUDE (rp, admin, first, new_habit, no_mfa, actor_first),
           CASE WHEN first THEN 'first ' ELSE '' END || event_name || ' of this IAM user'
           || CASE WHEN event_name = 'GetFederationToken' THEN
                  coalesce(' for ' || (rp->>'$.name'), '')
                  || coalesce(' with policies ' || nullif(array_to_string(list_transform(tfh_list(rp->'$.policyArns'),
                                                                                         lambda p: p->>'$.arn'), ', '), ''), '')
                  || CASE WHEN admin THEN ' (administrator rights)' ELSE '' END
              ELSE coalesce(' (MFA serial ' || (rp->>'$.serialNumber') || ')', ' (no MFA)') END
           || CASE WHEN new_habit THEN '; the user was active since '
                   || strftime(actor_first, '%Y-%m-%dT%H:%M:%SZ') || ' without calling it' ELSE '' END
    FROM tokens
    WHERE admin OR new_habit OR (first AND no_mfa)
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details
FROM hits
ORDER BY event_time
