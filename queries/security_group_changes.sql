-- id: security_group_changes
-- title: Security group changes
-- description: Security groups created or deleted and rules added, changed or removed, with the CIDR ranges
-- description: and ports of the rules (0.0.0.0/0 opens to the internet).
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- columns: event_time, actor, source_ip, region, event_name, group_id, cidrs, ports, error
SELECT event_time, actor, source_ip_address AS source_ip, aws_region AS region, event_name,
       coalesce(json_extract_string(request_parameters, '$.groupId'),
                json_extract_string(response_elements, '$.groupId'),
                json_extract_string(request_parameters, '$.groupName')) AS group_id,
       list_distinct(list_concat(
           coalesce(json_extract_string(request_parameters, '$..cidrIp'), []),
           coalesce(json_extract_string(request_parameters, '$..cidrIpv6'), []))) AS cidrs,
       list_distinct(list_transform(
           coalesce(json_extract_string(request_parameters, '$..fromPort'), []), lambda p: p)) AS ports,
       error_code AS error
FROM events
WHERE event_source = 'ec2.amazonaws.com'
  AND event_name IN ('AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress',
                     'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress', 'CreateSecurityGroup',
                     'DeleteSecurityGroup', 'ModifySecurityGroupRules', 'UpdateSecurityGroupRuleDescriptionsIngress')
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time
