from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "posts" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "title" VARCHAR(200) NOT NULL,
    "body" TEXT NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "tags" JSONB NOT NULL,
    "published_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "author_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_posts_status_07e835" ON "posts" ("status", "created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_posts_status_b090ca" ON "posts" ("status", "published_at", "id");
CREATE INDEX IF NOT EXISTS "idx_posts_status_8f2e47" ON "posts" ("status", "title", "id");
CREATE INDEX IF NOT EXISTS "idx_posts_author__ffbbfb" ON "posts" ("author_id", "created_at", "id");
COMMENT ON COLUMN "posts"."status" IS 'DRAFT: DRAFT\nPUBLISHED: PUBLISHED\nARCHIVED: ARCHIVED';
COMMENT ON TABLE "posts" IS '``tags`` is the list as shown; ``PostTag`` rows index it for the tag filter.';
        CREATE TABLE IF NOT EXISTS "comments" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "author_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT,
    "post_id" BIGINT NOT NULL REFERENCES "posts" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_comments_post_id_ee1fba" ON "comments" ("post_id", "created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_comments_author__a7f639" ON "comments" ("author_id");
        CREATE TABLE IF NOT EXISTS "post_tags" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "tag" VARCHAR(30) NOT NULL,
    "post_id" BIGINT NOT NULL REFERENCES "posts" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_post_tags_post_id_5dfd46" UNIQUE ("post_id", "tag")
);
CREATE INDEX IF NOT EXISTS "idx_post_tags_tag_fdbe34" ON "post_tags" ("tag", "post_id");
        CREATE TABLE IF NOT EXISTS "products" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "description" TEXT NOT NULL,
    "price_cents" BIGINT NOT NULL,
    "stock" INT NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "seller_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_products_status_614ea3" ON "products" ("status", "created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_products_status_9cdb73" ON "products" ("status", "price_cents", "id");
CREATE INDEX IF NOT EXISTS "idx_products_status_f09861" ON "products" ("status", "name", "id");
CREATE INDEX IF NOT EXISTS "idx_products_seller__bb81a9" ON "products" ("seller_id", "created_at", "id");
COMMENT ON COLUMN "products"."status" IS 'ACTIVE: ACTIVE\nARCHIVED: ARCHIVED';
COMMENT ON TABLE "products" IS '``price_cents`` is integer cents; ``stock`` never goes negative (conditional updates).';
        CREATE TABLE IF NOT EXISTS "orders" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "status" VARCHAR(16) NOT NULL,
    "total_cents" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "buyer_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_orders_buyer_i_1b6ff8" ON "orders" ("buyer_id", "created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_orders_status_37f857" ON "orders" ("status", "created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_orders_status_89090d" ON "orders" ("status", "buyer_id");
COMMENT ON COLUMN "orders"."status" IS 'PENDING: PENDING\nPAID: PAID\nCOMPLETED: COMPLETED\nCANCELLED: CANCELLED';
        CREATE TABLE IF NOT EXISTS "order_items" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "quantity" INT NOT NULL,
    "unit_price_cents" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL REFERENCES "orders" ("id") ON DELETE CASCADE,
    "product_id" BIGINT NOT NULL REFERENCES "products" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_order_items_order_i_745aba" ON "order_items" ("order_id", "id");
CREATE INDEX IF NOT EXISTS "idx_order_items_product_a2ee0f" ON "order_items" ("product_id");
COMMENT ON TABLE "order_items" IS 'A line of an order; ``unit_price_cents`` is the price when the order was placed.';
        CREATE TABLE IF NOT EXISTS "idempotency_records" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "operation" VARCHAR(32) NOT NULL,
    "key" VARCHAR(128) NOT NULL,
    "request_hash" VARCHAR(64) NOT NULL,
    "result_id" BIGINT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_idempotency_user_id_c033ea" UNIQUE ("user_id", "operation", "key")
);
CREATE INDEX IF NOT EXISTS "idx_idempotency_created_68bd32" ON "idempotency_records" ("created_at");
COMMENT ON TABLE "idempotency_records" IS 'The first result of (user, operation, key); a replay returns it.';
        CREATE TABLE IF NOT EXISTS "ledger_entries" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "kind" VARCHAR(16) NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "transfer_id" BIGINT,
    "order_id" BIGINT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_ledger_entr_user_id_d2e136" ON "ledger_entries" ("user_id", "created_at");
COMMENT ON COLUMN "ledger_entries"."kind" IS 'DEPOSIT: DEPOSIT\nTRANSFER_OUT: TRANSFER_OUT\nTRANSFER_IN: TRANSFER_IN\nORDER_PAYMENT: ORDER_PAYMENT\nORDER_REFUND: ORDER_REFUND\nSALE_PROCEEDS: SALE_PROCEEDS';
COMMENT ON TABLE "ledger_entries" IS 'Every balance change, signed, with what caused it. The sum of a user''s entries is';
        CREATE TABLE IF NOT EXISTS "transfers" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "amount_cents" BIGINT NOT NULL,
    "note" VARCHAR(280),
    "created_at" TIMESTAMPTZ NOT NULL,
    "receiver_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT,
    "sender_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_transfers_sender__cb65cc" ON "transfers" ("sender_id", "created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_transfers_receive_cd6ded" ON "transfers" ("receiver_id", "created_at", "id");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "ledger_entries";
        DROP TABLE IF EXISTS "transfers";
        DROP TABLE IF EXISTS "post_tags";
        DROP TABLE IF EXISTS "posts";
        DROP TABLE IF EXISTS "products";
        DROP TABLE IF EXISTS "orders";
        DROP TABLE IF EXISTS "order_items";
        DROP TABLE IF EXISTS "idempotency_records";
        DROP TABLE IF EXISTS "comments";"""


MODELS_STATE = (
    "eJztXf9v4jgW/1csfrmO1K1a2s70uqeTmJJ2uKXQAzq7e8spTRMXogaHTUw7aG/+9/NzEh"
    "LnCyQUaMhYqtTE9nPC5zn2+7znL3/VJraBLffo3sVO7RL9VSPaBLMLIf0Q1bTpNEyFBKo9"
    "WrzgjJXgKdqjSx1NpyzxSbNczJIM7OqOOaWmTaBoA03w5BE7yH5CdIzRRHOeMZ1amo6P0M"
    "MDnmim9fCATBe51HawgSz7FTs/6ZqLjUPk2sikkDkj5p8zDI80bJ090ySjjdc+JJD+k0lc"
    "TFyTmi/Ymv/MannULI3oWNUxoa5XGzzrVbMszMQJ+6N4xF6CFziCl/QqVKk9wqwooPzHf1"
    "mySQz8Dbtw+0dNd7BGsaFqFCRMo8ZK/OHpwr8Hkemz+mRiyxAUxTJZFk9X6XzK0z6boxah"
    "17wswPSo6rY1m5Cw/HROxzZZCLC3htQRJtiBF2Fp1JmBCsnMsnxVB1r18V8U8X5JRMbAT9"
    "rMgoYA0t4LhGk1Ve10B2pfGahqLdFIAomIZv0k3SbQwNiruhyAEbzCT3+v109PP9WPTz9e"
    "nJ99+nR+cXzByvL3TWZ9+u69TIiWVxXHrHXT6gzghWzWir22DQnfuYxGNU+KKyxEP1CRiP"
    "/VWHPS0Q/Kx/BnPyyOf4D2MgUECaEGwi9vFyqYaN9UC5MRHbPb8+Ml6H5t9K6+NHoH58cf"
    "RIg7fk6dZwHYIbj8ky2C7kJgM/C+b/sWwK2fn+VAl5XKhJfnifhONdd9tR1DHWvuuAjOCc"
    "EKNuf6+XkuxM+XIH4eR9yxrYzuQiGzCQe7xd4JhpgE6IHstrBONO7afV/p1YqBXWs0b1ud"
    "S8T/Dcltt6n0GoNu7xItLocE6r1Ei9oLKubkYw69nHzMVAtkiVphgNOZu65eQundaeZO6T"
    "RbnRv1q9JrXbeuGoNWt1NUU2l1XKK01CFpXA1aXxWmVv5/SPr3fSioNC/R4nIdXdZz9WpL"
    "OrVEnyYYaMUso4ToaiNpU73acQWMpFAH1H7GRH1hvABeN6GDTAUk5CqjgPrJ2aezi9OPZw"
    "vcFynL4E5Cyy0cgMhk5QO+IMLbZNBQc4KXmEjxCmI4G34NR8FFDtT9PqosY/kSUAetW6U/"
    "aNzeQfUT1/3T4qg1Bgrk1HnqPJZ6EB9OFpWgX1uDLwhu0X+6HYWjabt05PAnhuUG/6nBO2"
    "kzaqvEflU1I4pJkBwkCTpnlBvTtZQtSu5Ey7s0kaukZNEDUETJouQGlLyORbJNs5z9PqNL"
    "rLn/3D3Rug/RUqXPpsaaShcld6P03ZKx/dR6yrfO3x7cd0/PERcSJDxq+vOrxmi0kBM2D5"
    "tgFdSncsMozZr1K7j+pYctjaZbTb4nt0vwgNU1gKr2sD18D76AIDVsFxF6jZ+YmsYbwavn"
    "1VVpvHR7MsngSQWQuvJqqSpI8PW/EaE7VkVl4XFsY6a/GSGvlqqCZDuGHyV7QwcOdVQVIN"
    "PAk6lNMdHnqoN1htcb0WqFFfZ4fVVFzsLGCDsq64AdE78RtDavS2FVzasKF8sh7hP7GKGZ"
    "YfMFp4VPC0A28OurPl6uP8ZLrKJYgR1v1+0syz6ZNalP4ika0Ub8J8Gz4UlpJnvK5Iy4SZ"
    "89SSOFSeSYrkEQ9xYiz1uoc+0i20FB+A8xAxlTxOu8RC7Dz8JoBlXhb1MT8DyKBwU2Vmme"
    "WRUwNUX15zvMHGbHYTmPoqTzKAL9JFSQLwYXES9zKLrGo2q/q8pto9W+RNG7IekpIHXX6P"
    "d/7faal0i8L0ek1IvQFJ0uIEpVbm7GxzxBzI/ZQcyPiSAm7+mwu054R5CsnjN4f92AKd5f"
    "dz3Xryvjdnuh3/0K6Ujv/oZiOqHRmd+YjFqqO5vzUAmjMhFYETWRVMO17WBzRH7B84RJmc"
    "5agynwe6aCLMbKkh3tdUGAok2P/XZvxgA35xr9q0ZTqX3PjlRtk/sK4ZcU7hsPz2Rz32RQ"
    "aDX1Zcwa+XIeE4VFBRpysQtTk5jUxLTmR6hnU4+/wloDbyUAjM6+yMODA/m8H394SDDhLT"
    "xjSDRiINN1Z9grSfA3ihj5h5UJcO8yEP2af0ZTYNqEstdhj/Wr8avVRqzFsLd7YXe8piF5"
    "HdtWIIsOXHuCoV4GNkbMsmc16PZ0/mEdbu49ho92kp6Xk55L3rcT3ud9XanWw/19q5mOsi"
    "AUA3k2M40jEK0U0+PAnno2XtR64z9UMukfj2mFY2BRLYuSkk+XWsuhnVBUy4Kk1HKZtWxO"
    "i5gYXum1TIuS6VC0Lc7yLD47y157dpZYesYNbsa10oK42fiKUtXDeSur/KTjLxt96fiTjj"
    "/p+JOOv0zHX2NmmLRtj2opTr9F3uEyh58GpVTLL7bS1/fr2EaGaaDXsQbTTth/e3KEGjq1"
    "HQTuNKo5I0yR5mA0tcAtZhruISI2RU9ei0LPeO5ecv8aAG4lPH0bf8KQ2DNqmS++l0/TdX"
    "vGtA87mMBMbPbD8m49Iv1tpfS3sQabunQ232yYUHpnK9LXmAvTU25a/YHSU/hcl+B6SPh0"
    "GH/9OeSJ90PS7t7ADgP8n3+nXrMiUDZ6x/O69wOeyv4H92qj3Q7S4Bpm3lz3lP4XddD9Re"
    "moPeW+771TMnVIgvk4KrP+OjdQLp4SKeNN4ekp/75nxoVQNpYTl4mXZO/YbSvhM6N33n4K"
    "amRJvnjv5zeVtjJY5Pp38a4qj8l8Ws9hMZ/WMw1myBLtZQ16wsKmU1RqLdupXItZ32mpPh"
    "96CmMviEnw1wRfujq24+pwMPuZbnqrzsZXlKoezif1izzTQesX2fNBIU+EGiyYJMj/6nc7"
    "GTsS+OXjrg1Tp+h/yDK3t06u9o+nGeGGEXqcmRY1mY0Mj/1nbbs8LA1swEfwagQYH9w2fo"
    "vDf9Xufo67K6CCz3vtdZI7CKztdCqwlnybRD1Y9pvC0yMrgrNpenTx8UqWnq3rPJNNAHS/"
    "X0/faZNhPPaMSTkDpZyM+NE25kn8B/hb1mZefvkyLwfZSHxP+W2wfChZ9FftbucmKB4fX/"
    "Z5KJEBjM0EMMJOsFA/J4jJIMbabDAySOUHPyIkod9U/Gjqb9fxxvhRxXb9OIzFjyJNLz1+"
    "lOxbZFBuFahCZyrA2mPde691NXivuBxvzSm2ftDKsw39xQY6q2NxDw9UG0X21QeHANJc5I"
    "7tVwL778PTBtqIlXDsVxdxbULY68l2vPCYNkJPjN1jJ7n0fNOV52Ee4ebA6cQjsnnw7JG9"
    "0HhJCWpSC0ezhMaSrF8ymVIymYUac0+jDwQqwWVi86+O85wawEplz786TpwbILniDrli2T"
    "dPT/EEN3uN60FBt68ndIn4vyG5u//cbvW/8JhucDkkgGbrKyQGV/FBKJejfvPbNrBxr4iX"
    "PihfDi89PK8yXvr4MF/EuRKXlRPZyzyRXTrRsvu76jrR5JbOVdN6ysee2CVPuk7L5L+Tzq"
    "ZdOJvkNtLFNtLURiq4ld4Gku+iqhJI23ZaAlwZfksfyeWuSzVgQ5udpCDMSmCP8Px1gvOQ"
    "eq8XlJMOvZI69Dw15Xbn+VqtgrMpNjM8jy/vNNuVd5rw5MmYaFlsKhkT3UhM9J1id/7pCm"
    "nDYHjwwpJhMHLGQ54g3tQxxTOyhVOxIdTmUlt/ZnkEv7DkkY1ddjnS4KBtdMBgNkyoTbOQ"
    "x4rdD2nhvG09ZsOBvfAt0wtEj/nmOdiysAzrlbB/XGYFyJPAIysN8hgCrNSSlQYJUyD6Zg"
    "mYs2N7MbFKoL3rEF+sBytgiYmC0hpbe3IgH8iS4Gcivygvj9BNQrl3AWvv2O2CIdBa/NDu"
    "skanZaAsG/r9DJnIQNmPqPU8gTKB2+Q3JAQxaUZsyqnjwSoDZavcOkLze0OgjB8DqZoUTz"
    "ZxFmSL1VMh0Ld7lBo/PDPtDLXgVM0lh6ctDu/c8jLVx9l8id9HdBqtyl/UJf1F5fQX7SEN"
    "gf2EWp2bojzEF7tE/gVsdtTimyG1mkNy1b2983cmWlyy1EbnSmnzPZ0Wl+VgK9SmmrWOMy"
    "QmKK2YtZ0hkjBmK2Q/qYMkjD+i1vMQxqhNlL+vjUrJjnZTdJGjKtniKrYYbXxvIIuSJr4T"
    "TeSAZVHFAM0VdDEk+TnO2UaWSTA//QtOwmbSMHWB6YGqiRkOsAyZJ6LXMfbO9OIS6FVzYf"
    "NgHRspZ25v4QF5+KyPhBFlqP5UEslM39uczmamf840Qk2asoQ2UwFRkSqNtxsLOsY/tmLt"
    "O026SjDvmD9G+6X8SohKSfDXBj8yABSCX5STCtiUUW8HDvA3GvULR/qeKSGvVR/9/Ffvdz"
    "QNp9W+dcZ0WFNFkRW/7FJtetQy8GRqU0z0eQ/rrAnUUnhBstBSfmCGxVWHl8/JEwbMFn8y"
    "HZciB7tMU2DQH8ApLofInkLDYOUO4aiQDz/Dgb6YWetz9o/OHAJHgyR5wSYqTF3ZFD1aJq"
    "gIblhViWVOkgSUkgQIess7p1kQqsRU220ffQFfRAGA/eIVhHYru9MHW/oXPbg6LldBvDd/"
    "eLU3hhS26wWxLR0lUlGrfn9jonL3f3nk5P59b0tYtDxyMg/TK+mRk21sjLCjEOrMayn8Lp"
    "p9uIzZWbygillJE+ckdcoLduboUbOgYSB9rJERK+WyVoONQ/Rq0rF3bKSuMfAMYF0IaJs7"
    "m/B4DgJI/+Yi/5nIdBMsb+NPGBLG9ExnUeWBPsb6MxN9nCPKzKYCq2gjDSIyDMnAUDk54T"
    "P78elm9OoJi4FsmU3pWlO56/ZbsMundzEkg16j079Weio/SDJ6F8mD4ygjN0PS7TXZ1V3j"
    "91ulw8SE2yC3p1zfd5pBpnc3JP1GW1Hvet0rRWn2L5FwG/+y32f+ozaBs2bXiWLFJaX1sb"
    "a1z16AuE9rGH8xQcm39iyGKLHfO64rZ4JKsruHH5wku1siu+8d0xz4JkAtheou8g6X8dzA"
    "iNjFmjgXE2PFojgH69h8kTsmlbEXOVxCJyWTKIEtRWxabNsqv3z1zseuX+Q6iuZiyVE0F4"
    "ldq6Sp+iOaqrERqUgwVBCU/dra/ZpgN+RXgCAm4d8UY/BglZxh9UYjJGOWacga0joaiewq"
    "ZGM9a6kYWQM7pj6upfAxP+dwGRvTwjLbpGKFSNSPwqDeuD4omxuxluoWnHwZESlzkG1d6/"
    "z8PI91fn6ebZ1DXiyWxT6qAgj7xSuI7kmuYzhPlhzDeZI8hpM9kfoHuogIZx88GBHZ/dmD"
    "2x+l0sDd2CmDCfNrl4PZ9/8DcWCplA=="
)
