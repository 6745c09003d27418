from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "users" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(50) NOT NULL,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "password_hash" VARCHAR(255) NOT NULL,
    "role" VARCHAR(16) NOT NULL,
    "status" VARCHAR(24) NOT NULL,
    "balance_cents" BIGINT NOT NULL,
    "token_version" INT NOT NULL,
    "email_verified_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_users_role_35db31" ON "users" ("role");
CREATE INDEX IF NOT EXISTS "idx_users_status_941fc1" ON "users" ("status");
CREATE INDEX IF NOT EXISTS "idx_users_created_43d91f" ON "users" ("created_at");
CREATE INDEX IF NOT EXISTS "idx_users_created_eeb5e9" ON "users" ("created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_users_name_dff59b" ON "users" ("name", "id");
COMMENT ON COLUMN "users"."role" IS 'ADMIN: ADMIN\nMODERATOR: MODERATOR\nUSER: USER';
COMMENT ON COLUMN "users"."status" IS 'PENDING_VERIFICATION: PENDING_VERIFICATION\nACTIVE: ACTIVE\nSUSPENDED: SUSPENDED';
COMMENT ON TABLE "users" IS 'A member of the marketplace. ``email`` is stored lower-cased, so it is unique';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztmG1zokgQx7/KFK9yVUnKEI057xVRdperi24pyW1t3CIjjEo5DC4zrGvt5bvf9AgSQI"
    "zm8nCbuyqrhJ7uofn9B6bpH1oQeoTy4ytOIq2FfmgMB0Qe5OyHSMPzeWYFg8Ajqhxj6aEs"
    "eMRFhF0hjWNMOZEmj3A38ufCDxm4GiggwYhEKBwjMSUowNGMiDnFLjlGt7ckwD69vUU+R1"
    "yEEfEQDRckOnIxJ94h4iHyBQzGzP8aE7ikF7rymj6bPPnsQwb2I59xwrgv/G+ELn+Ts4ww"
    "xcwljkuY4KvZ4FoLTCmR4Uz+BJnIJJTDMSS5mtAR4YRIV6B880WafeaR74TD6Y3mRgQL4j"
    "lYQITvadLjZqVFcg4h85kz9gn1ckLJQTmk7I5YzpXtwp9YTLxTvoBp5LghjQOW+c+XYhqy"
    "dYDMGqwTwkgEiUibiGKQkMWUJlKnqib81y6rO7kX45ExjiksBIheJZDZNMfp9mxnYNqOo5"
    "UWSRpxT9nE5IYMFphMlSsAE0jh6FddPz1t6rXTs/NGvdlsnNfOpa/KtzzUvFslk9FaTaWY"
    "We+trg0JhXIVr9Y2GO5UDBZ4FaUEy+inEuX5t6c42kw/9S/wlzdW5J/S3iZAasgUyJ68l5"
    "AgwN8dSthETOVpo7aF7rXRb38w+geN2i95xN1kRFdDADuDqx7ZfeiuA54G7+uu7xxcvVHf"
    "ga70qsSrxvJ855jzRRh5zhTz6T6cS4FvcDnrjcZOxBtbiDeKxKOQVrwuTBYHCrYlc4Itpg"
    "Q9jX0u1qXFrV0NzL62H2zN6Fxa3RZSf0N22euYfcPu9VtofThkMG8LrWffU5iTsx10OTmr"
    "lAWG8qpI4CLmj9Uli345ZT6a3Y7Vfe9cm33rndU2bKvX3VepTXO00CbrkBlt27o2pazqf8"
    "gGVwNwNDsttD58jJb6Tm+1LS+10jstV6DtVxmVQh8ukp7qrVZ7A0VSpoEIZ4Q53+R3AaRb"
    "0qBSgFLcmxFAP6k36+enZ/U197VlG+4yWlXhACJf+qffC3m8HYlG+AHZUiIVJyhw9pIZjt"
    "ODHagn76h/y16+BaptXZoD27j8CNMHnH+lipphmzCiK+uyYD0obifrSdCflv0BwSn63Oua"
    "imbIxSRSV8z87M8a5IRjETosXDjYu88kNaemnOb5j8N9xM5HPoHKj9msnrNik/fn9RhdJt"
    "f9SVRPEG0VPZ57jxQ9H/kyor9snf5zqr7hWVfZQ2dnPLvXXQDDCLuzBZZfWKWRUA+rfMtD"
    "gR4ULZjhidIM4EKaSafPkFuCO9U29ACTkcNtXUCc+TzUBqzW+eFO2V5dsP9KC+wfFhfVza"
    "3KCq66M1BdvP3fE6joCcBDtQfhxP0N0j2p7dJBlF7Vn/a1Ug9RXlEQtmET/X3Q61ZUTVlI"
    "cff0XYH+QtTnz/Yh8jo1McDIbZEp04NL41MRd/uP3kVx74MJLiT6V93M7v4GJkmCrw=="
)
