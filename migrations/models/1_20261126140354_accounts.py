from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "audit_log" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "action" VARCHAR(32) NOT NULL,
    "actor_id" BIGINT,
    "target_id" BIGINT,
    "ip" VARCHAR(45),
    "request_id" VARCHAR(128),
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_audit_log_action_286eba" ON "audit_log" ("action");
CREATE INDEX IF NOT EXISTS "idx_audit_log_actor_i_3f2ecd" ON "audit_log" ("actor_id");
CREATE INDEX IF NOT EXISTS "idx_audit_log_target__71654c" ON "audit_log" ("target_id");
CREATE INDEX IF NOT EXISTS "idx_audit_log_created_277f5d" ON "audit_log" ("created_at");
COMMENT ON COLUMN "audit_log"."action" IS 'REGISTERED: REGISTERED\nEMAIL_VERIFIED: EMAIL_VERIFIED\nLOGIN: LOGIN\nLOGIN_FAILED: LOGIN_FAILED\nLOGOUT: LOGOUT\nLOGOUT_ALL: LOGOUT_ALL\nREFRESH_TOKEN_REUSED: REFRESH_TOKEN_REUSED\nPASSWORD_CHANGED: PASSWORD_CHANGED\nPASSWORD_RESET_REQUESTED: PASSWORD_RESET_REQUESTED\nPASSWORD_RESET: PASSWORD_RESET\nROLE_CHANGED: ROLE_CHANGED\nUSER_SUSPENDED: USER_SUSPENDED\nUSER_DELETED: USER_DELETED';
COMMENT ON TABLE "audit_log" IS 'Who did what to whom. Actor and target are plain ids, not foreign keys: the trail';
        CREATE TABLE IF NOT EXISTS "one_time_tokens" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "purpose" VARCHAR(16) NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "used_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_one_time_to_expires_ad5792" ON "one_time_tokens" ("expires_at");
CREATE INDEX IF NOT EXISTS "idx_one_time_to_user_id_540ce7" ON "one_time_tokens" ("user_id", "purpose");
COMMENT ON COLUMN "one_time_tokens"."purpose" IS 'VERIFY_EMAIL: VERIFY_EMAIL\nRESET_PASSWORD: RESET_PASSWORD';
COMMENT ON TABLE "one_time_tokens" IS 'An email verification or password reset token: single use, expiring.';
        CREATE TABLE IF NOT EXISTS "refresh_tokens" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "family_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "rotated_at" TIMESTAMPTZ,
    "revoked_at" TIMESTAMPTZ,
    "ip" VARCHAR(45),
    "user_agent" VARCHAR(255),
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_refresh_tok_family__59d0e5" ON "refresh_tokens" ("family_id");
CREATE INDEX IF NOT EXISTS "idx_refresh_tok_expires_310999" ON "refresh_tokens" ("expires_at");
CREATE INDEX IF NOT EXISTS "idx_refresh_tok_user_id_e386fa" ON "refresh_tokens" ("user_id", "revoked_at");
COMMENT ON TABLE "refresh_tokens" IS 'One refresh token of a session family. Rotation marks the used token ``rotated_at``';
        ALTER TABLE "users" ADD "deleted_at" TIMESTAMPTZ;
        CREATE INDEX IF NOT EXISTS "idx_users_deleted_f27077" ON "users" ("deleted_at");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_users_deleted_f27077";
        ALTER TABLE "users" DROP COLUMN "deleted_at";
        DROP TABLE IF EXISTS "one_time_tokens";
        DROP TABLE IF EXISTS "refresh_tokens";
        DROP TABLE IF EXISTS "audit_log";"""


MODELS_STATE = (
    "eJztXP9v4rgS/1es/LQndauWlrbHPZ2ULWmXty3sQbp775an1E1ciJo4XOxsF931f38eJy"
    "HkGxt4wFIuUiXweGZsPh8nmZnY/UtxPYs47PCOEV9pob8Uil0ivqTkB0jBk0kiBQHHD45U"
    "DISGlOAHxn1sciF8xA4jQmQRZvr2hNseBVUVucR9ID7yHhEfE+Ri/4nwiYNNcoju74mLbe"
    "f+HtkMMe75xEKO90z8tyZmxDpAzEM2h86A2n8GBIa0PFOMadPR2r0PKcjf2pQRymxufyXO"
    "9Bfh5QE7mJrEMAnlLPQGYz1jxyHCnIo/TkZiElLhECYZOjS4NyJCFVD+8l8htqlFvhEGzS"
    "+K6RPMiWVgDha2pQiNLyEXURtMJk/Go00cK0WU6BRdUm7w6UTK3tmjDuVXUhdgejBMzwlc"
    "muhPpnzs0ZmBmDVIR4QSHyYiZNwPgEIaOE5EdcxqhP9MJfwlczYWecSBAwsBrMMJJDLFML"
    "o93RhoumEouUUSW8wxG4lMj8ICE1NlEoARTOHtz43Gycl54+jk7KJ5en7evDi6ELpyvvmu"
    "85dwMglaoSuJWee609VhQp5YxeHaBsGLtMEch1aSsAT9mKI0/pdj7BejH+tn8Bc/LIt/jP"
    "YiAmJBwkBy5W2DAhd/MxxCR3wsms2jBeh+UvuX79X+m+bRT2mIu1FPQ3YB2Am48pJdBt2Z"
    "wXrg/bHrOwVuo3laAV2hVQqv7EvjO8GMPXu+ZYwxGy+Dc85wD5dzo9mshHhzAeLNLOK+55"
    "TcLjQauBLsjpgTPGJyoMe2m8I6t7iVu4HWV5YDW1Hbt51uC8mPIb3ttbW+qvf6LTT7OqTg"
    "t4Vm3pck5visAi/HZ6W0QFeaFQE4D9iqvCTW22Pmo9Ztd7rXxiet37nqXKp6p9ddlqkiHy"
    "1UJB1S9VLvfNIErfJzSAd3A1DU2i00+7oKl41Kd7UFN7XcPS0VoC0XGeVMvx8kreuudrQH"
    "QVLCAfeeCDW+irwAppvjoJSAnN3eENA4Pj0/vTg5O53hPpMsgjsPrYxwACJb6Mf5Qhreto"
    "CG2y5ZECJlHWRwtiIPh/GXCqhH96hdeZYvAFXv3GoDXb39CO5dxv50JGqqrkFPQ0qnGemb"
    "7ONk5gR97ujvETTRH72uJtH0GB/5csRET/9DgTnhgHsG9Z4NbM1jEotjUYpzkXITvhLZac"
    "utsLzNEHmfSE5XAJYhOW25BpJXiUg2GZaL32f1qDONxn0lrEcQLSQ9mFgrkp623A7p203G"
    "XifrBde6nD2U7x6f5kpIIHjA5tMzFml0qidZHh4lBtBnyMCoKJqNHFx96BMH8+KoKark9i"
    "jRhS8dXL3C9fASXwGxNFkXc+k1eRQ0jdeCVz/0tXd4wcLzGl7ZUsx3uQ03K8EUj+RPgrFh"
    "pKI1VvA2IbsGy98qFCz9Cu8XKJLhLQrDW1MyjDwfxfUqJBglHEmfLcQEfg5BAbgi3yY24H"
    "mYf62wJqdVXgPAuxQjKtAHvrjtkLrwv6OF/5ifHAXVikZz5rtcO1VkGeg/hnardm5aaL41"
    "pH0NrD6qg8HnXr/dQun2bpT2wpLCsvXttNXevUw4q1J1Oyuvup3lqm7yTkfYKvWIlOX+ZS"
    "+vN24tSFfYarkKqwtNr4Lf11WDqNPRNRUhkqCzejA5H6lurUi/F0FlrhKQZiJPw5XnE3tE"
    "P5BpLqQszlzjPVuvjIKyjFWIffw8S4Dml5747WGJW4Zz6uBSbWvKS3lpZZO5b6peUJD7Zu"
    "sJ5blvvorx/dRXZNYosgszUdgFhxEjDN6lCSvXdqaHqO/xMH+FzXHh1jV4Okcm9/c+9Mv7"
    "+P19LhPewBhDiqmFbMYCEmpS8o0jkfzDVjpoMwFi5PkXNIFMm3IxHTFs5CZyi0dixYjZfR"
    "Ut6WlIn8eeE9uiN8xzCfgVYBMkInvhwfQm059Wyc3DYeTTrk7PdzM9r/O+reR94dVVGD3c"
    "3XXaxSinjDIgB4FtHYLpXmV6EtiTMMabj97kD60z6X9eppU8A5dlOW1Z59M7zXISJyzLcs"
    "qyZnmXWbYny4QYofZKocWOcZiOLU6r7JY+Ld8sfZrbKy0DbpFr0YKrpxzftNX+4byRbel1"
    "4a8c/brwVxf+6sJfXfgrLfypgWXzG2+kFBT9Zn0Hiwp+GLQMJ1L7bq3v89hDlm2h5zGGbS"
    "fi03MPkWpyz0dQTuPYHxGOsE/QxIGymG2xA0Q9jh7DFYWeyJS1ZH0NAHdylb61jzCkXsAd"
    "+2tU5cOm6QWCfThy60JFT1BfsRBX19t2st4mFmzhWY9qu2ES660doVphL0xfu+4MdK2vyb"
    "0u8fchldthogNT0JduD+lN7xqOxMmPqGVcCRXQnW/Jvt6dLqXiM24b6s1NLIPvsPPmqq8N"
    "3ht674PWNfra3SCcU146pPF+HENEf91r0MtK5nTCLTx97bc7EVykdDM9WZuspphj70ZLxp"
    "xvhQcAjbkzZOl21N/WbjR91hu1sreqKiHzSaNCxHzSKA2YoSsdL2O4Ey4dOs1brRQ77dbp"
    "ix90tkw+epbGPmVWg78i+HWpYzOlDp+In8mKV3U5vmmr/cP5uHFRZTto46J8Pyj0paGGCC"
    "YP8r8HvW7JEbpIP1vasE2O/kaOzTaW9Cr/egyoDIzQQ2A73BYxMgz7q7LZPKwIbMAnVdWI"
    "MX5zq/6ehf/ypvcuW64AB+9eddWpPvK2ctFpicNPG03UiW+bY6UoTQ97DhYm6YnO9zL0cp"
    "7XnN/+U5Lb//P4fHnaWvo/CsqfuuX/nmCnTm7s0usFuKiWQDhS30N0j4+q/I8soVUe0Rzl"
    "/kuWGJEXviQrD2rmTLYf1/yY18pri2B+6MPs5X8IqA2B"
)
