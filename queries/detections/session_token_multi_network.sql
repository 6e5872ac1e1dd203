-- id: session_token_multi_network
-- title: One session token used from several networks
-- severity: high
-- attack: T1550.001, T1078.004
-- events: *
-- description: Temporary credentials (one ASIA access key: a role session, a federation or session token) used
-- description: from public addresses in at least min_networks different networks (IPv4 /16, IPv6 /48): a session
-- description: token copied off the host or browser it was issued to and replayed elsewhere. One hit per extra
-- description: network (its first call); high when the client there differs from the one on the first network (the
-- description: same session driven by another tool), else medium. Left out: console sessions (a browser roaming
-- description: between networks), instance-profile sessions (instance_credentials_off_instance judges those),
-- description: calls made by AWS services or from AWS compute runtimes (exec-env/AWS_ in the user agent), sign-in
-- description: events, and private or non-address sources. Needs no baseline: fires on a single burst.
-- description: Request shapes read: userIdentity.accessKeyId, sourceIPAddress, userAgent, sessionCredentialFromConsole.
-- false_positives: A laptop moving between networks during a long CLI session (home, office, phone tether);
-- false_positives: split-tunnel VPNs whose traffic leaves from several networks.
-- references: https://attack.mitre.org/techniques/T1550/001/,
-- references: https://hackingthe.cloud/aws/avoiding-detection/steal-keys-undetected/
-- param: min_networks int 2 | Distinct public networks one session key is used from
WITH pairs AS (   -- one row per key and source address: the address tests then run on few rows
    SELECT user_identity_access_key_id AS access_key, source_ip_address AS ip, min(event_time) AS first_time,
           arg_min(event_id, (event_time, event_id)) AS first_event,
           arg_min(user_agent, (event_time, event_id)) AS client, count(*) AS calls
    FROM events
    WHERE starts_with(user_identity_access_key_id, 'ASIA')
      AND user_identity_invoked_by IS NULL
      AND event_source <> 'signin.amazonaws.com'   -- sign-in events carry no session of their own
      AND NOT coalesce(session_credential_from_console, false)
      AND NOT coalesce(contains(user_identity_arn, '/i-') AND regexp_matches(user_identity_arn, '/i-[0-9a-f]{8,17}$'),
                       false)
      AND NOT coalesce(contains(user_agent, 'exec-env/AWS_'), false)
    GROUP BY ALL
),
networks AS (   -- one row per key and network
    SELECT access_key, network, min(first_time) AS first_time, arg_min(first_event, first_time) AS first_event,
           arg_min(client, first_time) AS client, sum(calls) AS calls
    FROM (SELECT *, CASE WHEN tf_ipv4_int(ip) IS NOT NULL
                         THEN split_part(ip, '.', 1) || '.' || split_part(ip, '.', 2) || '.0.0/16'
                         ELSE array_to_string(string_split(lower(ip), ':')[1:3], ':') || '::/48' END AS network
          FROM pairs
          WHERE tfh_is_ip(ip) AND NOT tfh_private_ip(ip))
    GROUP BY ALL
),
spread AS (
    SELECT *, count(*) OVER (PARTITION BY access_key) AS n,
           row_number() OVER (PARTITION BY access_key ORDER BY first_time, network) AS nth,
           first_value(network) OVER (PARTITION BY access_key ORDER BY first_time, network) AS home,
           first_value(client) OVER (PARTITION BY access_key ORDER BY first_time, network) AS home_client
    FROM networks
    QUALIFY n >= $min_networks
)
SELECT e.event_time, e.actor, e.user_identity_access_key_id AS access_key, e.source_ip_address AS source_ip,
       e.user_agent, e.aws_region AS region, e.recipient_account_id AS account, e.event_name, e.event_id,
       'session key used from ' || s.n || ' networks: ' || s.network || ' (' || s.calls || ' call(s)) after '
       || s.home || CASE WHEN s.client <> s.home_client THEN '; another client than on the first network ('
                                                              || s.home_client || ')' ELSE '' END AS details,
       CASE WHEN s.client <> s.home_client THEN 'high' ELSE 'medium' END AS severity
FROM spread s
JOIN events e ON e.event_id = s.first_event
WHERE s.nth > 1
ORDER BY e.event_time
