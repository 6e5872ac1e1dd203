-- id: cloudtrail_insight
-- title: CloudTrail Insights anomaly (unusual API call or error rate)
-- severity: medium
-- attack: T1078.004, T1580
-- events: *
-- description: CloudTrail Insights events (eventCategory Insight, delivered under CloudTrail-Insight/): AWS's own
-- description: comparison of an API's call rate (ApiCallRateInsight) or error rate (ApiErrorRateInsight) with its
-- description: baseline. One hit per insight (its Start event, or its End event when the Start is missing), with the
-- description: API, the insight and baseline averages, the duration and the attributions (the principals, user
-- description: agents and error codes that drove it); actor and user agent are the top attributions. Medium for
-- description: error-rate insights, low for call-rate insights.
-- description: Request shapes read: none; insightDetails: state, eventSource, eventName, insightType,
-- description: insightContext.statistics (insight / baseline average, insightDuration) and insightContext.attributions
-- description: (a list, or one object; each insight a list or one object of {value}).
-- false_positives: A deployment or a batch job that changes the volume of a routine API; an application broken by a
-- false_positives: permission change (error rate).
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-insights-events-with-cloudtrail.html,
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-insights-events.html
WITH insights AS (
    SELECT event_time, event_id, aws_region, recipient_account_id, shared_event_id,
           insight_details AS d, insight_details->>'$.state' AS state
    FROM events
    WHERE event_category = 'Insight' AND insight_details IS NOT NULL
),
paired AS (   -- one row per insight: its Start (or End), with the End's time and duration
    SELECT *,
           max(event_time) FILTER (WHERE state = 'End') OVER p AS ended,
           max(TRY_CAST(d->>'$.insightContext.statistics.insightDuration' AS DOUBLE)) OVER p AS minutes
    FROM insights
    WINDOW p AS (PARTITION BY recipient_account_id, coalesce(shared_event_id, event_id))
    QUALIFY row_number() OVER (PARTITION BY recipient_account_id, coalesce(shared_event_id, event_id)
                               ORDER BY state = 'Start' DESC, event_time, event_id) = 1
),
attributed AS (
    SELECT *,
           list_transform(tfh_list(d->'$.insightContext.attributions'),
               lambda a: (a->>'$.attribute') || ' ' || coalesce(array_to_string(list_transform(
                   tfh_list(a->'$.insight'), lambda v: (v->>'$.value')), ', '), '?')) AS drivers,
           (list_filter(tfh_list(d->'$.insightContext.attributions'),
                        lambda a: (a->>'$.attribute') = 'userIdentityArn')[1]->'$.insight[0]')->>'$.value' AS top_arn,
           (list_filter(tfh_list(d->'$.insightContext.attributions'),
                        lambda a: (a->>'$.attribute') = 'userAgent')[1]->'$.insight[0]')->>'$.value' AS top_agent,
           TRY_CAST(d->>'$.insightContext.statistics.insight.average' AS DOUBLE) AS rate,
           TRY_CAST(d->>'$.insightContext.statistics.baseline.average' AS DOUBLE) AS baseline
    FROM paired
)
SELECT event_time, top_arn AS actor, NULL AS access_key, NULL AS source_ip, top_agent AS user_agent,
       aws_region AS region, recipient_account_id AS account, coalesce(d->>'$.eventName', '?') AS event_name,
       event_id,
       coalesce(d->>'$.insightType', 'Insight') || ' on ' || coalesce(d->>'$.eventSource', '?') || ':'
       || coalesce(d->>'$.eventName', '?') || ': '
       || CASE WHEN d->>'$.insightType' = 'ApiErrorRateInsight' THEN 'errors' ELSE 'calls' END
       || ' averaged ' || coalesce(CAST(round(rate, 4) AS VARCHAR), '?') || ' against a baseline of '
       || coalesce(CAST(baseline AS VARCHAR), '?')
       || CASE WHEN baseline > 0 AND rate IS NOT NULL THEN ' (x' || CAST(round(rate / baseline) AS BIGINT) || ')'
               ELSE '' END
       || CASE WHEN state = 'Start' THEN ' from ' || strftime(event_time, '%Y-%m-%dT%H:%M:%SZ')
               || coalesce(' to ' || strftime(ended, '%Y-%m-%dT%H:%M:%SZ'), ' (no End event)')
               ELSE ' (End event; the Start event is missing)' END
       || coalesce(' (' || CAST(minutes AS INTEGER) || ' min)', '')
       || coalesce('; attributed to ' || nullif(array_to_string(drivers, '; '), ''), '') AS details,
       CASE WHEN d->>'$.insightType' = 'ApiErrorRateInsight' THEN 'medium' ELSE 'low' END AS severity
FROM attributed
ORDER BY event_time
