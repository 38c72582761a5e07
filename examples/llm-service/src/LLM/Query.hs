{-# LANGUAGE GADTs #-}
{-# LANGUAGE KindSignatures #-}

-- | A tiny typed query language the admin endpoint evaluates.
module LLM.Query
  ( Query (..)
  , describe
  , evalQuery
  ) where

import Data.Kind (Type)

import LLM.Pricing (costOf)
import LLM.Types

data Query :: Type -> Type where
  ModelOf :: Tier -> Query LLMKind
  PriceOf :: LLMKind -> Usage -> Query Double
  WindowOf :: LLMKind -> Query Tokens
  Pair :: Query a -> Query b -> Query (a, b)
  Constant :: a -> Query a

describe :: Query a -> String
describe (ModelOf tier) = "model for " ++ show tier
describe (PriceOf kind _) = "price on " ++ modelName kind
describe (WindowOf kind) = "context window of " ++ modelName kind
describe (Pair a b) = describe a ++ " and " ++ describe b
describe (Constant _) = "a constant"

evalQuery :: Query a -> a
evalQuery query = case query of
  ModelOf Fast -> Haiku
  ModelOf Balanced -> Sonnet
  ModelOf Deep -> Flagship
  PriceOf kind usage -> costOf kind usage
  WindowOf kind -> contextWindow kind
  Pair a b -> (evalQuery a, evalQuery b)
  Constant x -> x
