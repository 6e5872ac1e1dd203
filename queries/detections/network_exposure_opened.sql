-- id: network_exposure_opened
-- title: Network exposure opened to the internet
-- severity: high
-- attack: T1562.007, T1190
-- attack_v19: T1686.001, T1190
-- events: ec2.amazonaws.com:AuthorizeSecurityGroupIngress, ec2.amazonaws.com:ModifySecurityGroupRules,
-- events: ec2.amazonaws.com:CreateNetworkAclEntry, ec2.amazonaws.com:ReplaceNetworkAclEntry,
-- events: ec2.amazonaws.com:CreateRoute, rds.amazonaws.com:ModifyDBInstance, rds.amazonaws.com:ModifyDBCluster,
-- events: rds.amazonaws.com:CreateDBInstance, rds.amazonaws.com:RestoreDBInstanceFromDBSnapshot
-- description: Successful changes that expose resources to the internet: security group ingress from 0.0.0.0/0 or
-- description: ::/0 (high for all traffic or a sensitive port of the ports parameter, else medium); network ACL
-- description: ingress entries allowing 0.0.0.0/0 (medium); a default route to an internet gateway (low); an RDS
-- description: instance or cluster made publicly accessible (high). A CIDR whose prefix length is 0 is the whole
-- description: internet whatever its address bits (1.2.3.4/0).
-- description: Request shapes read: ipPermissions.items[] with ipRanges.items[].cidrIp / ipv6Ranges.items[].cidrIpv6
-- description: (a one-element list may be logged as a bare object); the top-level cidrIp / ipProtocol / fromPort /
-- description: toPort of the CLI's --cidr form; ModifySecurityGroupRules' SecurityGroupRule (CidrIpv4 / CidrIpv6);
-- description: cidrBlock / ipv6CidrBlock, ruleAction, egress, portRange (network ACLs); destinationCidrBlock and
-- description: gatewayId (routes); publiclyAccessible (RDS).
-- false_positives: Public load balancers and web servers on 80/443 (medium); new VPCs with public subnets (low).
-- references: https://attack.mitre.org/techniques/T1562/007/, https://attack.mitre.org/techniques/T1190/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.ec2-security-group-open-port-22-ingress/
-- param: ports text 22,23,135,139,445,1433,1521,2049,2375,2379,3306,3389,5432,5900,5984,6379,9042,9200,11211,27017 | Ports reported as high when open to the internet
WITH calls AS (
    SELECT *, request_parameters AS rp
    FROM events
    WHERE event_name IN ('AuthorizeSecurityGroupIngress', 'ModifySecurityGroupRules', 'CreateNetworkAclEntry',
                         'ReplaceNetworkAclEntry', 'CreateRoute', 'ModifyDBInstance', 'ModifyDBCluster',
                         'CreateDBInstance', 'RestoreDBInstanceFromDBSnapshot')
      AND event_source IN ('ec2.amazonaws.com', 'rds.amazonaws.com')
      AND tfh_ok(error_code, response_elements, event_name)
),
sg AS (
    SELECT *,
           list_filter(list_concat(tfh_list(rp->'$.ipPermissions.items'),
                                   tfh_list(rp->'$.ModifySecurityGroupRulesRequest.SecurityGroupRule.SecurityGroupRule'),
                                   -- the CLI's --cidr form: one rule at the top level of the request
                                   CASE WHEN json_type(rp, '$.cidrIp') IS NOT NULL OR json_type(rp, '$.cidrIpv6') IS NOT NULL
                                        THEN [json_object('ipProtocol', rp->>'$.ipProtocol', 'fromPort', rp->>'$.fromPort',
                                                          'toPort', rp->>'$.toPort', 'cidrIp', rp->>'$.cidrIp',
                                                          'cidrIpv6', rp->>'$.cidrIpv6')]
                                        ELSE CAST([] AS JSON[]) END),
               lambda p: len(list_filter(list_concat(coalesce(p->>'$..cidrIp', []), coalesce(p->>'$..cidrIpv6', []),
                                                     coalesce(p->>'$..CidrIpv4', []), coalesce(p->>'$..CidrIpv6', [])),
                                         lambda c: regexp_matches(trim(c), '/0+$'))) > 0) AS open_rules,
           list_transform(string_split($ports, ','), lambda x: TRY_CAST(trim(x) AS INTEGER)) AS sensitive
    FROM calls
    WHERE event_name IN ('AuthorizeSecurityGroupIngress', 'ModifySecurityGroupRules')
),
sg_rules AS (
    SELECT *, list_transform(open_rules, lambda p: {
               'proto': coalesce(p->>'$.ipProtocol', p->>'$.IpProtocol', '-1'),
               'lo': TRY_CAST(coalesce(p->>'$.fromPort', p->>'$.FromPort') AS INTEGER),
               'hi': TRY_CAST(coalesce(p->>'$.toPort', p->>'$.ToPort') AS INTEGER)}) AS rules
    FROM sg
    WHERE len(open_rules) > 0
),
sg_hits AS (
    SELECT *, 'security group ' || coalesce(rp->>'$.groupId', (rp->>'$..GroupId')[1], rp->>'$.groupName', '?')
              || ' opened to the internet on ' || array_to_string(list_transform(rules, lambda r:
                  CASE WHEN r.proto IN ('-1', 'all') THEN 'all traffic'
                       ELSE r.proto || ' ' || coalesce(CAST(r.lo AS VARCHAR), '*')
                            || CASE WHEN r.hi IS DISTINCT FROM r.lo THEN '-' || coalesce(CAST(r.hi AS VARCHAR), '*') ELSE '' END
                  END), ', ') AS details,
           CASE WHEN len(list_filter(rules, lambda r: r.proto IN ('-1', 'all') OR r.lo IS NULL
                    OR len(list_filter(sensitive, lambda x: x BETWEEN r.lo AND coalesce(r.hi, r.lo))) > 0)) > 0
                THEN 'high' ELSE 'medium' END AS severity
    FROM sg_rules
),
other_hits AS (
    SELECT *, CASE
        WHEN event_name IN ('CreateNetworkAclEntry', 'ReplaceNetworkAclEntry')
             AND lower(rp->>'$.ruleAction') = 'allow' AND coalesce(rp->>'$.egress', 'false') = 'false'
             AND (regexp_matches(trim(rp->>'$.cidrBlock'), '/0+$') OR regexp_matches(trim(rp->>'$.ipv6CidrBlock'), '/0+$')) THEN
            'network ACL ' || coalesce(rp->>'$.networkAclId', '?') || ' allows ingress from the internet ('
            || CASE WHEN (rp->>'$.aclProtocol') = '-1' THEN 'all traffic'
                    ELSE 'protocol ' || coalesce(rp->>'$.aclProtocol', '?') || coalesce(' ports ' || (rp->>'$.portRange.from')
                         || '-' || (rp->>'$.portRange.to'), '') END || ')'
        WHEN event_name = 'CreateRoute' AND (rp->>'$.destinationCidrBlock') = '0.0.0.0/0'
             AND starts_with(rp->>'$.gatewayId', 'igw-') THEN
            'default route of ' || coalesce(rp->>'$.routeTableId', '?') || ' to internet gateway ' || (rp->>'$.gatewayId')
        WHEN event_source = 'rds.amazonaws.com' AND (rp->>'$.publiclyAccessible') = 'true' THEN
            'database ' || coalesce(rp->>'$.dBInstanceIdentifier', rp->>'$.dBClusterIdentifier', '?')
            || ' made publicly accessible'
    END AS details,
    CASE WHEN event_name = 'CreateRoute' THEN 'low'
         WHEN event_name IN ('CreateNetworkAclEntry', 'ReplaceNetworkAclEntry') THEN 'medium'
         ELSE 'high' END AS severity
    FROM calls
    WHERE event_name NOT IN ('AuthorizeSecurityGroupIngress', 'ModifySecurityGroupRules')
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details, severity
FROM sg_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details, severity
FROM other_hits WHERE details IS NOT NULL
ORDER BY event_time
