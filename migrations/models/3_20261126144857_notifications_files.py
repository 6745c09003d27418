from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "devices" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "token" VARCHAR(512) NOT NULL UNIQUE,
    "platform" VARCHAR(8) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "last_seen_at" TIMESTAMPTZ NOT NULL,
    "user_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_devices_user_id_415869" ON "devices" ("user_id");
COMMENT ON COLUMN "devices"."platform" IS 'IOS: IOS\nANDROID: ANDROID\nWEB: WEB';
COMMENT ON TABLE "devices" IS 'A push target. A token belongs to one user at a time (re-registering moves it).';
        CREATE TABLE IF NOT EXISTS "notifications" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "kind" VARCHAR(24) NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "body" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "read_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_notificatio_user_id_0ebfd0" ON "notifications" ("user_id", "created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_notificatio_user_id_87be33" ON "notifications" ("user_id", "read_at");
CREATE INDEX IF NOT EXISTS "idx_notificatio_read_at_cb5898" ON "notifications" ("read_at");
COMMENT ON COLUMN "notifications"."kind" IS 'WELCOME: WELCOME\nORDER_UPDATED: ORDER_UPDATED\nTRANSFER_RECEIVED: TRANSFER_RECEIVED\nCOMMENT_ADDED: COMMENT_ADDED\nPOST_MODERATED: POST_MODERATED\nSYSTEM: SYSTEM';
        CREATE TABLE IF NOT EXISTS "files" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "storage_key" VARCHAR(255) NOT NULL UNIQUE,
    "filename" VARCHAR(255) NOT NULL,
    "content_type" VARCHAR(100) NOT NULL,
    "size" BIGINT NOT NULL,
    "sha256" VARCHAR(64),
    "purpose" VARCHAR(16) NOT NULL,
    "status" VARCHAR(8) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "owner_id" BIGINT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_files_owner_i_4b7f61" ON "files" ("owner_id", "created_at");
CREATE INDEX IF NOT EXISTS "idx_files_status_bcf599" ON "files" ("status", "created_at");
COMMENT ON COLUMN "files"."purpose" IS 'AVATAR: AVATAR\nPRODUCT_IMAGE: PRODUCT_IMAGE\nATTACHMENT: ATTACHMENT';
COMMENT ON COLUMN "files"."status" IS 'PENDING: PENDING\nREADY: READY';
        CREATE TABLE IF NOT EXISTS "product_images" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "created_at" TIMESTAMPTZ NOT NULL,
    "file_id" BIGINT NOT NULL REFERENCES "files" ("id") ON DELETE CASCADE,
    "product_id" BIGINT NOT NULL REFERENCES "products" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_product_ima_product_cd72d7" UNIQUE ("product_id", "file_id")
);
        ALTER TABLE "users" ADD "avatar_id" BIGINT;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "users" DROP COLUMN "avatar_id";
        DROP TABLE IF EXISTS "product_images";
        DROP TABLE IF EXISTS "files";
        DROP TABLE IF EXISTS "notifications";
        DROP TABLE IF EXISTS "devices";"""


MODELS_STATE = (
    "eJztXW1zm7gW/isaf7npTDaTOC/N9e7sDLVJ6t3EzrVJu936DiEg20yw8IKc1He3//1KAs"
    "w7Bgc7mGqmU4OkI8hzQJznnCPp78bM1KBhH93b0Gq0wN8NpMwgOQiVH4KGMp/7pbQAK48G"
    "a7ggLViJ8mhjS1ExKRwrhg1JkQZt1dLnWDcRbSqAGZw9QguYY4CnEMwU6wniuaGo8Ag8PM"
    "CZohsPD0C3gY1NC2rAMF+g9ZOq2FA7BLYJdEwrF0j/awHpJTVTJdfU0aT03keIlv+kIxsi"
    "W8f6MzSWP5NeHhVDQSqUVYiw7fRGr/WiGAYk4oj8w3BCboI1OKI36XQoY3MCSVOK8tf/km"
    "IdafAbtOnp14ZqQQVDTVYwldC1Bmnx1dGFe05F5k/yWIeGFlIUqSRVrFzGyzkr+6BPughf"
    "sbYUpkdZNY3FDPnt50s8NdFKgNw1LZ1ABC16I6QMWwuqQrQwDFfVnlZd/FdNnL8kIKPBsb"
    "Iw6INApZ0b8MsastzrS/JQlGS5EXtIPImAZt0i1UT0ASO3ajMAJvQWfvp3s3l6+r55fHpx"
    "eX72/v355fElacvuN171/rtzMz5aTlcMs+51tyfRGzLJU+w827TgO5NRsOJIMYX56HsqCu"
    "PfnipWMvpe+wj+5A+L4u+hnaUAr8DXgP/m7UIFM+WbbEA0wVNyen6cge4nYdD+KAwOzo/f"
    "hSHuuTVNVkXB9sFlr2wRdFcC5cD7ts93CNzm+VkOdEmrVHhZXRjfuWLbL6alyVPFnhbBOS"
    "ZYw8e5eX6eC/HzDMTPo4hbppEyXIhoMWNgd8k90U9MDHRPdltYxx7uxv1QHDSKgd0QOrfd"
    "XguwnxG67XfEgSD1By2wOhwh2m8LrHovqJiTixx6OblIVQutCmuFAI4X9qZ68aV3p5k7sd"
    "fp9q7lT+Kge9VtC1K33yuqqaQ+WiCpdISEttT9JBK1st8RGt4PaUOx0wKrw0102cw1qmUM"
    "arExLWSgFbOMYqLrjaSyRrXjGhhJvg6w+QSR/Ex4Ab3dmA5SFRCTq40Cmidn788uTy/OVr"
    "ivSrLgjkPLLBwKkU7ae3whDG+HQIP1GcwwkaIdRHDW3B6OvIMcqLtjVFW+5RmgSt1bcSgJ"
    "t3e0+5lt/2Uw1ARJpDVNVrqMlB5EPyerTsDnrvQR0FPwZ78nMjRNG08sdkW/nfRng96Tss"
    "CmjMwXWdGCmHjFXlFI54RyQ7yRssOSO9HyLk3kOilZeSYU05KLsvmQ2EbDZcVe3Lf5YoX9"
    "L0VesbBkCa/YJvbgNvVB/j6tj4yle909eedciDJfucVc21DpYcndKH23b+F+aj1hpGV3T5"
    "2n46eAA48WPCrq04tiaXKoxn88TARlqj6ZmaVJXMLt4Or3ATQUnGyzun70PoIS6UuiXe3h"
    "8/DdewO8Uv+5CDg34JioaVoKXgOnr1rjpZqzWQpLLYBU2+mlriDRt/+VCN2RLmoLj2VqC/"
    "XVCDm91BUk09LcGOUrBnDaR10B0jU4m5sYInUpW1AleL0Sra7f4YD1V1fkDKhNoCWTAdjS"
    "4StBu2F9iaSrZV3hIjXIHpOXkT5mUH+GSXS3AGSS21/98bLdbzzHKg0rDT7r6mvfwQ7rpK"
    "4QIRPrY11lGLwSqF6gq7rCNdaN1z5PV7pRq6eJEmezaaZR6XjVrDmLlihImbA/iV6bXimJ"
    "IyfkokU5dHpOWgJ1z5GdhgALjgAnOOI82sC0gJftAAgjhRiwPlvAJvgZECxoV/DbXKd4Hk"
    "VjoKV1mieJjGbieZ7ghUWIE+RpYxVNG/P0E1NBvpSDgHiVM28aLIngiyzeCt2bFgiejdBA"
    "pFJ3wnD4uT/otED4fJNkgvITQ5yAdNHsqLBU7VLRLvLkbFyk52xcxHI22EgH7U2i2SHJ+k"
    "Vf9tfvnhBusTeLtdg8TWEv9LtfMVQeTispiOobnfmNyaClurMUr1oYlbFIZlgTcTVcmRbU"
    "J+h3uIyZlMmM1Zvxs2cqSGOspNhSXlYEKPjokb/dSZBi5pwwbAsdsfE9PTS8Te4bincmcN"
    "9oPDSd+8ajsOupL2HWwJVzmCidQ6UAG9o0E5NIzXRjeQQGJnb4K51a5Ux8ol9nV+ThwaL1"
    "bBx/eIgx4S1cY4QUpAHdthfQaYngNwwI+acTsei5TUB0e/4ZzCnTRpjcDrms243brTIhTw"
    "y5u2dyxnoaoZepaXiy4MA2Z5D2S8CGgFj2pAfVnC/fbcLNncuwrx2n59Wk55z37YT3OW9X"
    "ovVwf9/tJKMcEoqAvFjo2hEVrRXTY8CeOjZe0Hpjfyhn0j8e0/K/gUW1HJbkfLrSWvbthK"
    "JaDklyLVdZy/q8iInhtN7ItKiYDsO2xVmeubZn6VNtz2IzbZnBTbhWUtZEOr5hqfrhvJVJ"
    "zdzxl44+d/xxxx93/HHHX6rjT1hoOr4xJ40Ep9+q7jDL4afQVrLhNlvr6/s8NYGma+Blqt"
    "C0E/Jrzo6AoGLTAtSdhhVrAjFQLAjmBnWL6Zp9CJCJwdh5osATXNot5l+jgBsxT1/pVxgh"
    "c4EN/dn18imqai6I9umCTXTqA01my+mI4/62SvrbyAObuFJAvmwYX3pnC3BskAszEK+7Q0"
    "kciCzXxTseIZYO4y63QevC5yN007+mC6qwH/dMviJNaNvgGavr30uslPx657Jwc+OV0WOa"
    "eXM1EIcfZan/u9iTB+L90LmneOkIefk4MrH+ete0XbQk0MZJ4RmI/7knxkWobaQmKhNtSe"
    "6xfyP61wyeOcvHyIEVSMLnbn1HvBGlVa17Fh2q8pjMp80cFvNpM9VgplVhe1mhI2Hxmd4B"
    "qS1N9K7rwBNw7LNPT2HsQ2Ic/A3B566O7bg6LEj+TDv5qU7HNyxVP5xPmpd50kGbl+n5oL"
    "QuDDW1YOIg/zbs91IWYHHbR10buorBP8DQtzcxtfHLeIGYYQQeF7qBdWIj08v+2tguD0sC"
    "m+IT8mp4GB/cCn9E4W/f9D9E3RW0gw977XXiS3Zs7HQqsHjDNom6N88+gacHpuCn0/TgbP"
    "+1LD1d13mSTSjo7rievLAwwXjqGJM8A6WajPjR1JZx/CX4LW3tQrd9laeDlBLfE/+Qsj8l"
    "q/Hqpt+79ppHvy/7/CnhAYxyAhj+IFhonAuJ8SDGxmww8JHKD35AiENfVvxo7q6P88r4Uc"
    "2W2TmMxI8Cj15y/Cg+tvCg3DpQQ4NpCNYBGd4H3bb0VnE59jQn2PreU55u6K9WrFofi3t4"
    "wMoksI0IdQgAxQb21HxBdLsRejVJmZAWlvliA6ZNGvYam5YTHlMmYEzYPbTiU8/L7jwP8/"
    "DXQk8mHoG10heP5IamGS2wjg0YrAo9LPH+OZOpJJNZqTF3Gr0nUAsuE8m/Os6zSQpplZ5/"
    "dRzbJoVzxR1yxarvFZHgCe4MhCupoNvXEWoB9jNCd/cfbrrDjyym6x2OEEWz+4kWekfRj1"
    "AuR335yzaQ714RL73Xvhpeenq92njpo5/5Is6VqCxPZK9yIjt3oqWPd/V1ovE11Oum9YSX"
    "PbYwHnedVsl/x51Nu3A28XXbi61cq0xk6lZ6HUiui6pOIG3baUnhSvFbukhmuy5ljw2Vm6"
    "QQykogl3D8dSHnIXZuz2vHHXoVdeg5asrtznO1WgdnUyQzPI8v7zTdlXca8+TxmGhVbCoe"
    "Ey0lJvpGsTt3O5Okz6C/00nGZzCwqUqeIN7c0r1tY51wG0EMTqAFWBENtdnYVJ9IHYLPpH"
    "hiQpscTojx8wzBAYFZ02lvigEcVmy/SwrnbesyJQf2/LtMbsA0EqyBhgF5WK+C42OWFeBp"
    "Ma8Z4LWvoR1w0sxjCJBWGTMNYqZA8M5iMKfH9iJitUB71yG+yAhWwBILC3JrbOPkQPYhi4"
    "OfivyqPd8xPA7l3gWshbbU/SQWDIG6Ui3g/FY3Os0DZenQ72fIhAfKfkSt5wmUhbhNfkMi"
    "JMbNiLKcOg6sPFC2zq0TevxeEShj+67KOoazMjZf7ZJ+agR6eGmEmTJ57VZzrmurS7uqE0"
    "7b9BQ6u/om7TXnbfebscncalfhLU/nfVwsM/xjYefauvpVX9yvVk2/2h7SNbruUrd3XZSv"
    "uWIt4B7QRaG6bNGobmeE2v3bO3cFp9UhKRV6bfGGrX21OqwGq8MmVoxNnEYRQW7tbew04s"
    "Q6XSH7SbE4sf4RtZ6HWAdtovxjbVCKD7Rl0WqGKmfV61h18OF7BanmdPqNaCIDLI0qemiu"
    "oYu+MyTHfuTA0BFku6TRHcOJNE3xIHrAciwThE7XZoXgZQqdvc+YBHhRbLrIsgq1hL3Jt3"
    "CBPHzWRUILMlQ35YYz07c2p9OZ6V8LBWEdJ0w1TlVAUKRO39vSgrPRl63Y850kXSeYd8wf"
    "g+NSfiUEpTj4G4Mf+AAUgj8sxxVQllFveg7wVxr1K0f6nikhr1UffP3Xrws199OPX5tZ7v"
    "dUU2TDb3alFofqanA2NzFE6nIAVfIINBJ4QbxRJj/Q/eayxdrn5AkSscXHumVjYEGbaIoa"
    "9Ad0t5tDYM7pg0HaHdItVd79TDc+hsRaX5IfvLAQ3UIlzgvK6DBxBlhwCx6vI3pCuopNB+"
    "MkoJIkIKS3vLnfIaFapCRve4sQ+kYUANhtXkNot7KKv7f1QdENvqNyNcS7/E2+nW9IYbs+"
    "JLalLVdqatXvb0yU75LAt+bcv/ctg0XzrTnzML2Kbs15A7UJtESErWUjgd8Fqw+zmJ3BGs"
    "qQtNRhTlInPkNrCR4Vgz4YQJ0qaEJa2eSpgdoheNHx1NleU1UIeBplXYDSNnsxY/EcQCH9"
    "lw3cawLdjrG80q8wQoTp6daqywN1CtUnIvq4BJiYTQVmGwceiMBniAeGqskJn8gfn2xGr0"
    "9Y9GSrbEo3OuJdf9ilq6E6ByMkDYTe8EocyGzDzeBZoI5u2xk4GaH+oEOO7oQvt2KPiIVO"
    "vdqBeHXf63iVztkIDYUbUb4b9Nui2Bm2QOg0+ma/Tf6jMqN78m4SxYpKcutjY2uf3ACyxx"
    "sYfxFBzrf2LIbIsd87rsszQTnZ3cMXjpPdLZHdt45pSq4J0Eiguqu6wyye6xkRu5gTZ0Ok"
    "rZkUZ0EV6s98ZakqjiKHGXSSM4kK2FLIxMWW93Lb128f8eZlri17LjO27LmMre7FTdUf0V"
    "SNfJGKBENDgnxc23hcC9kN+RUQEuPwl8UYHFg5Z1i/IAtKyTL1WUPSQMORXYdsZGStFCPr"
    "wGddhY0EPubWHGaxMY21yT3XbL6wpwArFuFcR0AA2HyCCDxCw0QTm5wBE0EW8gMKBgqgtg"
    "U4sOBPFpzoNoZUF2BmPtNAIE5YvHgL/ReJI3KqV02qx56CIjRjJVBOvPBtVRCiGecneZJI"
    "SatUmsHqIpNqDAWPTWu2aXQ2KF/pCG23P2wB8t8ICb3OoE+XkXEPRuiz+KEFyH+bxEnzJJ"
    "+mp57GEk857UvHvb60z1BsLNsQog30HpXlmq+K5j2MslYp4bGpqjBNHpva40TMnon1sa4q"
    "7p8do0Oh+kxShAItdxGmSk5kPPSDVIEGdBhkaY5O8ErhOY8VZi61z3n8LN60+7citZzZgZ"
    "efeH9HP6yrBEX3NJD1OBDborPsfqyIrepIkx1lodNxV3b0T0forj+U5Ns+6de5RPh8hIZf"
    "hpJ42wLO7yb2fDPP9KZm+vSmZmx6E9axUShSthKosvo3jZUd54qVHWfEyo5jsbJHU0uYDJ"
    "m+BY7Xvhb4ZhnD29j7hg54cbB/G/Z7yWB77aO8RFcx+AcY+va2v2v8Ml4gleIJHhe6gXVk"
    "H9HL/trYvSooPtmqiKIe4Rq0g6gqPBMgpo1sxhgQK4EsViw0v7/cMO4W4M6g9K/KfroEeL"
    "pq5Wx47hKop0vgSjcSI6Os/DDLBTAmLXZB/c0XlDiJMXW/Bk71q0n1bUxaT6BccE2WiFjt"
    "ApbN8/M8XO/8PJ3r0bqwzUtfzqI7ywZlasH5doAzuSKGCDtAFcA6KldDvE9y+TBOMnwYJ3"
    "Efhq3/LwHnzIxDV4Lbe5vnek6V5vlFoTF7JVG/PPbyV3aaLyxCjlLGjxzJJb54lYeRhvBJ"
    "kIRBCzi/I3Q36Hfu25LcvRWuxRYInY6QIElC+6Mzwd8/3sRXXf4c/T3cW2ogCp0vBT16CT"
    "tLsW5awO+N5wFV9VNRX9dPkBHmNwSCUtwYKMv5w1Dl3p+1q1sHHr6i7p+Etd35LqdpwG91"
    "+5oQZglOsyim6c6zuCbL9aJ9je0DYMBVAj9fHboKg+phhquM2zU/ol3jvaSFXryAELdqNn"
    "Zx8F1TqmVW8v09StnfI3HvlLGelGhXGFgvQlhTVAPjapXitQK0dHWaZHy6NZlmp+K32WbQ"
    "tpBV+aOYlK/c6y7dWHyGll1wI5GASJVdxlWK9NGXqgDCbvMaoruVuJ4bD40jnJ4xGxDZfd"
    "Ls26RmlpYeG7O8dvkx+/5/pphVEw=="
)
