-- The person behind a request as authentication named them (issue 13): user name and e-mail from a
-- verified token, or an API key's name. Also in the hashed body; these columns only make a person
-- searchable. Portable SQL: H2 2.x and PostgreSQL 14+.
ALTER TABLE audit_entry ADD COLUMN username VARCHAR(200);
ALTER TABLE audit_entry ADD COLUMN email VARCHAR(200);
CREATE INDEX audit_entry_username ON audit_entry (tenant, username);
CREATE INDEX audit_entry_email ON audit_entry (tenant, email);
