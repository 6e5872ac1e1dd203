-- id: function_trigger_persistence
-- title: New Lambda function wired to a schedule or an event source
-- severity: high
-- attack: T1546, T1053
-- events: lambda.amazonaws.com:CreateFunction*, lambda.amazonaws.com:CreateEventSourceMapping*,
-- events: events.amazonaws.com:PutTargets, events.amazonaws.com:PutRule
-- description: An EventBridge rule given a Lambda function as target (PutTargets), or an event-source mapping
-- description: (queue, stream, Kafka) created for a function, where the function was created in the dataset within
-- description: window_hours before: a planted function made to run on a schedule or on every event, so it keeps
-- description: running after the attacker's keys are gone. High when the same principal created the function or
-- description: when the rule is a schedule (scheduleExpression), else medium. Changes made by CloudFormation or
-- description: another service on the caller's behalf are left out; refused calls are denied attempts (one severity
-- description: lower).
-- description: Request shapes read: CreateFunction functionName and responseElements.functionArn; PutTargets rule and
-- description: targets[].arn (Arn; a one-element list may be a bare object); PutRule name and scheduleExpression;
-- description: CreateEventSourceMapping functionName (a name, an ARN or a partial ARN) and eventSourceArn.
-- false_positives: Deployment pipelines creating functions and their triggers outside CloudFormation.
-- references: https://attack.mitre.org/techniques/T1546/, https://attack.mitre.org/techniques/T1053/,
-- references: https://hackingthe.cloud/aws/post_exploitation/lambda_persistence/
-- param: window_hours int 24 | A function created this recently counts as new
WITH functions AS (   -- functions created in the dataset: (account, region, name) -> creation
    SELECT recipient_account_id, aws_region, request_parameters->>'$.functionName' AS fn, event_time AS created,
           actor AS creator
    FROM events
    WHERE event_source = 'lambda.amazonaws.com' AND starts_with(event_name, 'CreateFunction') AND error_code IS NULL
),
schedules AS (
    SELECT DISTINCT recipient_account_id, aws_region, request_parameters->>'$.name' AS rule
    FROM events
    WHERE event_source = 'events.amazonaws.com' AND event_name = 'PutRule' AND error_code IS NULL
      AND json_type(request_parameters, '$.scheduleExpression') IS NOT NULL
),
wiring AS (
    SELECT *, tfh_denied(error_code) AS denied,
           CASE WHEN event_source = 'events.amazonaws.com'
                THEN list_transform(list_filter(list_transform(tfh_list(request_parameters->'$.targets'),
                                                               lambda t: coalesce(t->>'$.arn', t->>'$.Arn')),
                                                lambda a: contains(a, ':function:')),
                                    lambda a: split_part(split_part(a, ':function:', 2), ':', 1))
                ELSE [regexp_extract(request_parameters->>'$.functionName', '(?:function:)?([^:]+)(?::[^:]*)?$', 1)]
           END AS fns
    FROM events
    WHERE ((event_source = 'events.amazonaws.com' AND event_name = 'PutTargets')
           OR (event_source = 'lambda.amazonaws.com' AND starts_with(event_name, 'CreateEventSourceMapping')))
      AND (error_code IS NULL OR tfh_denied(error_code))
      AND user_identity_invoked_by IS NULL
),
judged AS (
    SELECT w.*, f.fn, f.created, f.creator, s.rule IS NOT NULL AS scheduled
    FROM (SELECT *, unnest(fns) AS target FROM wiring) w
    JOIN functions f ON f.recipient_account_id = w.recipient_account_id AND f.aws_region = w.aws_region
                    AND f.fn = w.target AND f.created <= w.event_time
                    AND w.event_time - f.created <= to_hours($window_hours)
    LEFT JOIN schedules s ON s.recipient_account_id = w.recipient_account_id AND s.aws_region = w.aws_region
                         AND s.rule = (w.request_parameters->>'$.rule')
    QUALIFY row_number() OVER (PARTITION BY w.event_id ORDER BY f.created DESC) = 1
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'function ' || fn || ' (created ' || strftime(created, '%Y-%m-%dT%H:%M:%SZ')
       || CASE WHEN creator = actor THEN ' by the same principal' ELSE ' by ' || coalesce(creator, '?') END || ') '
       || CASE WHEN event_source = 'events.amazonaws.com'
               THEN 'made the target of EventBridge rule ' || coalesce(request_parameters->>'$.rule', '?')
                    || CASE WHEN scheduled THEN ' (a schedule)' ELSE '' END
               ELSE 'given an event source ' || coalesce(request_parameters->>'$.eventSourceArn', '?') END
       || CASE WHEN denied THEN '; denied (' || error_code || ')' ELSE '' END AS details,
       CASE WHEN creator = actor OR scheduled THEN 'high' ELSE 'medium' END AS severity,
       denied AS attempt
FROM judged
ORDER BY event_time
