-- The files a policy change wrote (JSON: path -> new content, null for a deleted file), so that in
-- GitOps mode an approved change can be fetched and committed to become the next signed bundle.
ALTER TABLE policy_history ADD COLUMN changes TEXT;
