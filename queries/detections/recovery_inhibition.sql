-- id: recovery_inhibition
-- title: Backups, versioning or keys destroyed (ransomware preparation)
-- severity: high
-- attack: T1490, T1485
-- events: s3.amazonaws.com:PutBucketVersioning, s3.amazonaws.com:PutBucketLifecycle,
-- events: s3.amazonaws.com:PutBucketLifecycleConfiguration, s3.amazonaws.com:DeleteBucketEncryption,
-- events: s3.amazonaws.com:PutBucketEncryption, s3.amazonaws.com:DeleteBucket,
-- events: kms.amazonaws.com:ScheduleKeyDeletion, kms.amazonaws.com:DisableKey, kms.amazonaws.com:PutKeyPolicy,
-- events: backup.amazonaws.com:DeleteRecoveryPoint, backup.amazonaws.com:DeleteBackupVault,
-- events: backup.amazonaws.com:DeleteBackupVaultLockConfiguration, backup.amazonaws.com:DeleteBackupPlan,
-- events: rds.amazonaws.com:DeleteDBSnapshot, rds.amazonaws.com:DeleteDBClusterSnapshot,
-- events: rds.amazonaws.com:DeleteDBInstanceAutomatedBackup, rds.amazonaws.com:DeleteDBClusterAutomatedBackup,
-- events: rds.amazonaws.com:ModifyDBInstance, rds.amazonaws.com:DeleteDBInstance, rds.amazonaws.com:DeleteDBCluster,
-- events: rds.amazonaws.com:ModifyDBCluster, ec2.amazonaws.com:DeregisterImage, ec2.amazonaws.com:DeleteSnapshot,
-- events: elasticfilesystem.amazonaws.com:DeleteFileSystem, fsx.amazonaws.com:DeleteFileSystem,
-- events: kms.amazonaws.com:ImportKeyMaterial
-- description: Successful calls that remove the ways back: S3 versioning suspended (high) or MFA delete disabled
-- description: (low); lifecycle rules expiring objects within lifecycle_days (medium); bucket encryption removed
-- description: (medium) or set to a KMS key of an unknown account (high); buckets deleted (low); KMS keys scheduled
-- description: for deletion or disabled, or given a policy naming an unknown account (high); AWS Backup recovery
-- description: points, vaults, vault locks or plans deleted (high); RDS snapshots and automated backups deleted,
-- description: backup retention set to 0, databases deleted without a final snapshot (high; medium with one), RDS
-- description: deletion protection turned off (medium); EC2 images deregistered and EBS snapshots deleted (low,
-- description: medium once a principal has removed min_destroyed of them within an hour); EFS / FSx file systems
-- description: deleted (medium); key material imported into a KMS key (medium: whoever holds it can make the data
-- description: unreadable by deleting it).
-- description: Request shapes read: LifecycleConfiguration.Rule (a list, or one rule as a bare object) with
-- description: Expiration.Days; VersioningConfiguration.Status / MfaDelete; KMSMasterKeyID; policy; skipFinalSnapshot;
-- description: backupRetentionPeriod; deletionProtection; imageId, snapshotId, fileSystemId.
-- false_positives: Clean-up of test environments; key rotation retiring old keys; retention policies on temporary
-- false_positives: buckets.
-- references: https://attack.mitre.org/techniques/T1490/, https://attack.mitre.org/techniques/T1485/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.impact.s3-ransomware-batch-deletion/
-- param: lifecycle_days int 7 | Lifecycle rules expiring objects within this many days are reported
-- param: min_destroyed int 5 | Images and snapshots removed by one principal within an hour that make the removals medium
WITH calls AS (
    SELECT *, request_parameters AS rp
    FROM events
    WHERE event_name IN ('PutBucketVersioning', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration',
                         'DeleteBucketEncryption', 'PutBucketEncryption', 'DeleteBucket', 'ScheduleKeyDeletion',
                         'DisableKey', 'PutKeyPolicy', 'DeleteRecoveryPoint', 'DeleteBackupVault',
                         'DeleteBackupVaultLockConfiguration', 'DeleteBackupPlan', 'DeleteDBSnapshot',
                         'DeleteDBClusterSnapshot', 'DeleteDBInstanceAutomatedBackup', 'DeleteDBClusterAutomatedBackup',
                         'ModifyDBInstance', 'DeleteDBInstance', 'DeleteDBCluster', 'ModifyDBCluster',
                         'DeregisterImage', 'DeleteSnapshot', 'DeleteFileSystem', 'ImportKeyMaterial')
      AND event_source IN ('s3.amazonaws.com', 'kms.amazonaws.com', 'backup.amazonaws.com', 'rds.amazonaws.com',
                           'ec2.amazonaws.com', 'elasticfilesystem.amazonaws.com', 'fsx.amazonaws.com')
      AND tfh_ok(error_code, response_elements, event_name)
      AND (event_source NOT IN ('ec2.amazonaws.com', 'elasticfilesystem.amazonaws.com', 'fsx.amazonaws.com')
           OR event_name IN ('DeregisterImage', 'DeleteSnapshot', 'DeleteFileSystem'))
      AND (event_name NOT IN ('DeregisterImage', 'DeleteSnapshot') OR event_source = 'ec2.amazonaws.com')
      AND (event_name <> 'DeleteFileSystem' OR event_source IN ('elasticfilesystem.amazonaws.com', 'fsx.amazonaws.com'))
      AND (event_name NOT IN ('ImportKeyMaterial', 'ModifyDBCluster') OR event_source IN ('kms.amazonaws.com', 'rds.amazonaws.com'))
      AND NOT (event_name IN ('DeregisterImage', 'DeleteSnapshot')  -- lifecycle managers (DLM) clean up on their own
               AND (user_identity_invoked_by IS NOT NULL
                    OR coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false)))
),
removals AS (  -- images and snapshots removed by the same principal within an hour of each removal
    SELECT r.event_id, count(DISTINCT o.event_id) AS n
    FROM calls r JOIN calls o
      ON o.actor = r.actor AND o.event_name IN ('DeregisterImage', 'DeleteSnapshot')
     AND o.event_time BETWEEN r.event_time - INTERVAL 1 HOUR AND r.event_time + INTERVAL 1 HOUR
    WHERE r.event_name IN ('DeregisterImage', 'DeleteSnapshot')
    GROUP BY r.event_id
),
judged AS (
    SELECT *, coalesce(rp->>'$.bucketName', rp->>'$.keyId', rp->>'$.backupVaultName', rp->>'$.recoveryPointArn',
                       rp->>'$.dBSnapshotIdentifier', rp->>'$.dBClusterSnapshotIdentifier',
                       rp->>'$.dBInstanceIdentifier', rp->>'$.dBClusterIdentifier', rp->>'$.dbiResourceId',
                       rp->>'$.dbClusterResourceId', rp->>'$.backupPlanId', rp->>'$.imageId', rp->>'$.snapshotId',
                       rp->>'$.fileSystemId', rp->>'$.FileSystemId', '?') AS target,
        CASE
            WHEN event_name = 'PutBucketVersioning' AND (rp->>'$.VersioningConfiguration.Status') IN ('Suspended', 'Disabled')
                THEN {'d': 'versioning ' || lower(rp->>'$.VersioningConfiguration.Status'), 's': 'high'}
            WHEN event_name = 'PutBucketVersioning' AND (rp->>'$.VersioningConfiguration.MfaDelete') = 'Disabled'
                THEN {'d': 'MFA delete disabled', 's': 'low'}
            WHEN event_name IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
                 AND len(list_filter(tfh_list(rp->'$.LifecycleConfiguration.Rule'),
                         lambda r: (r->>'$.Status') = 'Enabled'
                                   AND TRY_CAST(r->>'$.Expiration.Days' AS INTEGER) <= $lifecycle_days)) > 0
                THEN {'d': 'lifecycle rule expires objects within ' || $lifecycle_days || ' day(s)', 's': 'medium'}
            WHEN event_name = 'DeleteBucketEncryption' THEN {'d': 'default encryption removed', 's': 'medium'}
            WHEN event_name = 'PutBucketEncryption'
                 AND len(tfh_unknown(list_transform(coalesce(rp->>'$..KMSMasterKeyID', []), lambda k: tfh_arn_account(k)))) > 0
                THEN {'d': 'encrypted with a KMS key of unknown account '
                      || array_to_string(tfh_unknown(list_transform(rp->>'$..KMSMasterKeyID', lambda k: tfh_arn_account(k))), ', '),
                      's': 'high'}
            WHEN event_name = 'DeleteBucket' THEN {'d': 'bucket deleted', 's': 'low'}
            WHEN event_name = 'ScheduleKeyDeletion'
                THEN {'d': 'KMS key scheduled for deletion in ' || coalesce(rp->>'$.pendingWindowInDays', '?') || ' day(s)',
                      's': 'high'}
            WHEN event_name = 'DisableKey' THEN {'d': 'KMS key disabled', 's': 'high'}
            WHEN event_name = 'PutKeyPolicy' AND len(tfh_unknown(tfh_policy_accounts(rp->'$.policy'))) > 0
                THEN {'d': 'KMS key policy grants unknown account(s) '
                      || array_to_string(tfh_unknown(tfh_policy_accounts(rp->'$.policy')), ', '), 's': 'high'}
            WHEN event_source = 'backup.amazonaws.com' THEN {'d': 'AWS Backup ' || event_name, 's': 'high'}
            WHEN event_name IN ('DeleteDBSnapshot', 'DeleteDBClusterSnapshot', 'DeleteDBInstanceAutomatedBackup',
                                'DeleteDBClusterAutomatedBackup')
                THEN {'d': 'RDS ' || event_name, 's': 'high'}
            WHEN event_name = 'ModifyDBInstance' AND (rp->>'$.backupRetentionPeriod') = '0'
                THEN {'d': 'automated backups turned off (retention 0)', 's': 'high'}
            WHEN event_name IN ('ModifyDBInstance', 'ModifyDBCluster') AND (rp->>'$.deletionProtection') = 'false'
                THEN {'d': 'deletion protection turned off', 's': 'medium'}
            WHEN event_name IN ('DeregisterImage', 'DeleteSnapshot')
                THEN {'d': CASE event_name WHEN 'DeregisterImage' THEN 'image deregistered' ELSE 'EBS snapshot deleted' END
                           || CASE WHEN n >= $min_destroyed THEN ' (' || n || ' images/snapshots removed within an hour)'
                                   ELSE '' END,
                      's': CASE WHEN n >= $min_destroyed THEN 'medium' ELSE 'low' END}
            WHEN event_name = 'DeleteFileSystem' THEN {'d': 'file system deleted', 's': 'medium'}
            WHEN event_name = 'ImportKeyMaterial' THEN {'d': 'key material imported into KMS key', 's': 'medium'}
            WHEN event_name IN ('DeleteDBInstance', 'DeleteDBCluster')
                THEN CASE WHEN (rp->>'$.skipFinalSnapshot') = 'true'
                          THEN {'d': 'database deleted without a final snapshot', 's': 'high'}
                          ELSE {'d': 'database deleted', 's': 'medium'} END
        END AS verdict
    FROM calls LEFT JOIN removals USING (event_id)
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       verdict.d || ': ' || target AS details, verdict.s AS severity
FROM judged
WHERE verdict IS NOT NULL
ORDER BY event_time
