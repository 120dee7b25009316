"""A FastAPI resource server that accepts this API's access tokens.

Written the way FastAPI's security guides show (OAuth2PasswordBearer, PyJWT), except that it
verifies with the server's public keys from its JWKS instead of a shared secret: it never holds
a key that could sign a token. It needs the server to sign with JWT_PRIVATE_KEY (ES256 or RS256);
an HS256 server publishes no keys. Run it with `python3 -m uvicorn app:app`; see README.md.
"""

import os

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

AUTH_URL = os.environ.get("AUTH_URL", "http://127.0.0.1:4000").rstrip("/")
# Only for the OpenAPI docs' "Authorize" button: this app never asks for tokens itself.
TOKEN_URL = os.environ.get("AUTH_TOKEN_URL", f"{AUTH_URL}/token")
JWKS_URL = os.environ.get("AUTH_JWKS_URL", f"{AUTH_URL}/.well-known/jwks.json")
# The server's JWT_ISSUER and JWT_AUDIENCE (both default to graphql-auth-api).
ISSUER = os.environ.get("AUTH_ISSUER", "graphql-auth-api")
AUDIENCE = os.environ.get("AUTH_AUDIENCE", "graphql-auth-api")

# The algorithm follows the key, never the token's own header (alg confusion); no HS256 here.
ALGORITHM_BY_KEY_TYPE = {"EC": "ES256", "RSA": "RS256"}
# RFC 9068: access tokens say they are one, so no other JWT from the same keys passes for one.
ACCESS_TOKEN_TYPE = "at+jwt"

app = FastAPI(title="FastAPI resource server")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL)
# Caches the key set (5 minutes) and fetches it again when a token names a kid it lacks, so the
# server's key rotation needs nothing here.
jwks_client = jwt.PyJWKClient(JWKS_URL)

credentials_exception = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Could not validate credentials",
    headers={"WWW-Authenticate": "Bearer"},
)


# A plain def: PyJWKClient fetches with blocking urllib, so FastAPI runs this in its thread pool.
def verify_token(token: str = Depends(oauth2_scheme)) -> dict:
    try:
        signing_key = jwks_client.get_signing_key_from_jwt(token)
        algorithm = ALGORITHM_BY_KEY_TYPE.get(signing_key.key_type)
        if algorithm is None:
            raise credentials_exception
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=[algorithm],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        # The header is covered by the signature just verified.
        if jwt.get_unverified_header(token).get("typ") != ACCESS_TOKEN_TYPE:
            raise credentials_exception
    except jwt.PyJWTError:  # bad signature, expired, wrong iss/aud, unknown kid, malformed
        raise credentials_exception
    return claims


@app.get("/me")
def read_me(claims: dict = Depends(verify_token)):
    return {"sub": claims["sub"], "scope": claims.get("scope", "")}
