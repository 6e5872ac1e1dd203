-- id: region_enabled
-- title: Opt-in region enabled
-- severity: low
-- attack: T1535
-- events: *:EnableRegion
-- description: An opt-in region enabled for the account (account.amazonaws.com, whatever service a log names):
-- description: attackers use regions nobody watches (notable change).
-- description: Request shapes read: RegionName (the Account API's spelling) or regionName.
-- false_positives: Expansion into a new region.
-- references: https://attack.mitre.org/techniques/T1535/,
-- references: https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'region enabled: ' || coalesce(request_parameters->>'$.RegionName', request_parameters->>'$.regionName', '?')
       AS details
FROM events
WHERE event_name = 'EnableRegion'
  AND tfh_ok(error_code, response_elements, event_name)
ORDER BY event_time
